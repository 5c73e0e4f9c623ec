/**
 * The four attacks of issue 12 as plans: who attacks from where, at what rate, for how
 * long, and which legitimate exchanges are timed meanwhile. `--quick` shortens every
 * flood; rates stay the same, so the counts shrink with the time.
 */
import type { Job, LegitProbe } from './agent.js';
import { NET, type AttackId, type ServerName } from './servers.js';

export interface Files {
  /** The small file the legitimate client fetches (TFTP and HTTP). */
  legit: { name: string; sha256: string };
  /** The large file attackers ask for. */
  big: { name: string };
}

export interface Peer {
  ns: 'server' | 'client';
  job: Job;
}

export interface AttackPlan {
  id: AttackId;
  title: string;
  floodMs: number;
  legit(server: ServerName, zone: string): Array<{ label: string; probe: LegitProbe; timeoutMs: number }>;
  attackers(zone: string, serverZone: string): Peer[];
  /** Helpers started before the idle phase (not attackers). */
  helpers(zone: string, serverZone: string): Peer[];
}

const TFTP_PEERS = 4;
/** Addresses in NET.pool (10.220.1.0–10.220.255.254). */
const POOL_SIZE = 255 * 256 - 1;

/** DUID-LL (RFC 8415 §11.4) of a MAC, as hex. */
const duidOf = (mac: string): string => `00030001${mac.replaceAll(':', '')}`;

/**
 * `legitMac` is the legitimate client that comes back (it has its lease from the idle
 * attempts); `freshMac` starts the addresses of legitimate clients the server has never
 * seen, one per attempt.
 */
export function plans(files: Files, quick: boolean, legitMac: string, freshMac: string): AttackPlan[] {
  const ms = (full: number): number => (quick ? 6000 : full);
  const budget = (rate: number, count: number, floodMs: number) => ({ rate, count: Math.min(count, Math.round((rate * floodMs) / 1000)), durationMs: floodMs });
  const http = { kind: 'http' as const, host: NET.server, port: 80, source: NET.legit, path: `/${files.legit.name}`, sha256: files.legit.sha256 };
  const dhcp4Ms = ms(15_000);
  const httpMs = ms(15_000);
  const tftpMs = ms(15_000);
  const dhcp6Ms = ms(20_000);
  return [
    {
      id: 'dhcp4',
      title: `a. DHCPv4 DISCOVER flood from new MACs, never REQUEST: /16 pool filled, then 500/s (${dhcp4Ms / 1000} s)`,
      floodMs: dhcp4Ms,
      legit: (server) => [
        { label: 'DORA', probe: { kind: 'dhcp4', mac: legitMac, fresh: false }, timeoutMs: 4000 },
        { label: 'DORA, new MAC each time', probe: { kind: 'dhcp4', mac: freshMac, fresh: true }, timeoutMs: 4000 },
        ...(server === 'bootlab' ? [{ label: 'HTTP GET (same process)', probe: http, timeoutMs: 5000 }] : []),
      ],
      // The fill takes every address of the pool (offers are held), so each DISCOVER after
      // it meets a full pool: the case where a linear free-address scan costs the most.
      attackers: () => [
        { ns: 'client', job: { role: 'dhcp4-flood', source: NET.attacker, fill: { rate: 10_000, count: POOL_SIZE + 100, durationMs: 20_000 }, budget: budget(500, 500 * 15, dhcp4Ms) } },
      ],
      helpers: () => [],
    },
    {
      id: 'http',
      title: `b. HTTP: 400 slowloris + 100 stalled 32 MiB GETs + 1,500 idle connections at 300/s, server at 1,024 fds (${httpMs / 1000} s)`,
      floodMs: httpMs,
      legit: () => [{ label: 'HTTP GET', probe: http, timeoutMs: 5000 }],
      attackers: () => [
        {
          ns: 'client',
          job: { role: 'http-flood', host: NET.server, port: 80, source: NET.attacker, slowloris: 400, stalled: 100, bigPath: `/${files.big.name}`, flood: 1500, rate: 300, durationMs: httpMs },
        },
      ],
      helpers: () => [],
    },
    {
      id: 'tftp',
      title: `c. TFTP: 20,000 RRQs at 1,700/s from new ports, never ACKed, every 2nd with timeout 255 (${tftpMs / 1000} s)`,
      floodMs: tftpMs,
      legit: () => [{ label: 'TFTP RRQ 64 KiB', probe: { kind: 'tftp', server: NET.server, source: NET.legit, file: files.legit.name, sha256: files.legit.sha256 }, timeoutMs: 5000 }],
      // Each held port is a file descriptor; split over peers so none nears its fd limit.
      attackers: () =>
        Array.from({ length: TFTP_PEERS }, () => ({
          ns: 'client' as const,
          job: { role: 'tftp-flood' as const, server: NET.server, source: NET.attacker, file: files.big.name, budget: budget(1700 / TFTP_PEERS, 20_000 / TFTP_PEERS, tftpMs) },
        })),
      helpers: () => [],
    },
    {
      id: 'dhcp6',
      title: `d. DHCPv6 SOLICIT flood, 15,000/s from new DUIDs, up to 300,000 (${dhcp6Ms / 1000} s)`,
      floodMs: dhcp6Ms,
      legit: (_server, zone) => [
        { label: 'SOLICIT…REPLY', probe: { kind: 'dhcp6', source: NET.v6.legitLl, zone, duidHex: duidOf(legitMac), fresh: false }, timeoutMs: 4000 },
        { label: 'SOLICIT…REPLY, new DUID each time', probe: { kind: 'dhcp6', source: NET.v6.freshLl, zone, duidHex: duidOf(freshMac), fresh: true }, timeoutMs: 4000 },
      ],
      attackers: (zone) => [{ ns: 'client', job: { role: 'dhcp6-flood', source: NET.v6.attackerLl, zone, budget: budget(15_000, 300_000, dhcp6Ms) } }],
      // bootlab's socket does not join ff02::1:2 itself; this makes the server host accept
      // that group, as any other DHCPv6 listener on the host would (dnsmasq joins it).
      helpers: (_zone, serverZone) => [{ ns: 'server', job: { role: 'dhcp6-join', zone: serverZone, durationMs: dhcp6Ms + 60_000 } }],
    },
  ];
}
