/**
 * The servers each attack runs against, started in the lab's server namespace inside a
 * pids cgroup and under a file-descriptor limit (soft = hard, since Node raises its soft
 * limit to the hard one at start-up). Only servers that speak the attacked protocol run.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { waitForLine, type Lab } from '../../test/interop/netns.js';
import type { PidsGroup } from './cgroup.js';
import { sleep } from './pace.js';

export type AttackId = 'dhcp4' | 'http' | 'tftp' | 'dhcp6';
export type ServerName = 'bootlab' | 'dnsmasq' | 'tftpd-hpa';

export interface Site {
  lab: Lab;
  group: PidsGroup;
  /** The directory served over TFTP and HTTP. */
  root: string;
  nofile: number;
  /** Extra `bootlab serve` flags from --serve-args. */
  serveArgs: string[];
}

export const NET = {
  server: '10.220.0.1',
  legit: '10.220.0.2',
  attacker: '10.220.0.3',
  prefix: 16,
  pool: { start: '10.220.1.0', end: '10.220.255.254', mask: '255.255.0.0' },
  v6: { server: 'fd20::1', serverLl: 'fe80::1', legitLl: 'fe80::2', attackerLl: 'fe80::3', freshLl: 'fe80::4', start: 'fd20::1000', end: 'fd20::ffff' },
} as const;

const repo = new URL('../../', import.meta.url).pathname;

async function spawnIn(site: Site, argv: string[]): Promise<ChildProcess> {
  const child = site.lab.spawn(site.lab.server.ns, ['prlimit', `--nofile=${site.nofile}:${site.nofile}`, ...argv]);
  // Not resumed yet: output stays buffered until the caller has its readiness listener on.
  await site.group.add(child.pid!);
  return child;
}

/** Waits until something listens on `port`, bounded in tries. */
async function listening(site: Site, child: ChildProcess, proto: 'u' | 't', port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it listened`);
    const { stdout } = await site.lab.exec(site.lab.server.ns, ['ss', `-Hl${proto}n`, 'sport', `= :${port}`]);
    if (stdout.trim() !== '') return;
    await sleep(100);
  }
  throw new Error(`nothing listens on port ${port} after 5 s`);
}

function bootlabArgs(attack: AttackId, site: Site): string[] {
  switch (attack) {
    case 'dhcp4':
      // HTTP in the same process: the finding was that pool scans starved it.
      return ['--bind', '0.0.0.0', '--server-id', NET.server, '--dhcp-range', `${NET.pool.start}-${NET.pool.end}`, '--subnet-mask', NET.pool.mask, '--http-root', site.root, '--http-port', '80'];
    case 'http':
      return ['--bind', NET.server, '--http-root', site.root, '--http-port', '80'];
    case 'tftp':
      return ['--bind', NET.server, '--tftp-root', site.root, '--tftp-port', '69'];
    case 'dhcp6':
      return ['--dhcp6-range', `${NET.v6.start}-${NET.v6.end}`];
  }
}

export interface BenchServer {
  name: ServerName;
  attacks: readonly AttackId[];
  start(attack: AttackId, site: Site): Promise<ChildProcess>;
}

export const servers: readonly BenchServer[] = [
  {
    name: 'bootlab',
    attacks: ['dhcp4', 'http', 'tftp', 'dhcp6'],
    async start(attack, site) {
      const child = await spawnIn(site, [process.execPath, join(repo, 'dist/cli/bin.js'), 'serve', ...bootlabArgs(attack, site), '--quiet', ...site.serveArgs]);
      await waitForLine(child, /bootlab serve: /, 15_000);
      child.stdout?.resume();
      return child;
    },
  },
  {
    name: 'dnsmasq',
    attacks: ['dhcp4', 'tftp', 'dhcp6'],
    async start(attack, site) {
      const base = ['dnsmasq', '--no-daemon', '--port=0', '--no-resolv', '--no-hosts', '--bind-interfaces', '--log-facility=-'];
      const dev = site.lab.server.dev;
      const argv =
        attack === 'dhcp4'
          ? [...base, `--interface=${dev}`, '--no-ping', '--leasefile-ro', `--dhcp-range=${NET.pool.start},${NET.pool.end},${NET.pool.mask},1h`, '--quiet-dhcp']
          : attack === 'dhcp6'
            ? [...base, `--interface=${dev}`, '--leasefile-ro', `--dhcp-range=${NET.v6.start},${NET.v6.end},64,1h`, '--quiet-dhcp6']
            : [...base, `--listen-address=${NET.server}`, '--enable-tftp', `--tftp-root=${site.root}`];
      const child = await spawnIn(site, argv);
      await waitForLine(child, attack === 'tftp' ? /TFTP root is/ : /DHCP.*range/, 10_000);
      child.stdout?.resume();
      return child;
    },
  },
  {
    name: 'tftpd-hpa',
    attacks: ['tftp'],
    async start(_attack, site) {
      // -L: stay in the foreground; -s: the root is the client's "/". It forks per RRQ.
      const child = await spawnIn(site, ['in.tftpd', '-L', '-a', `${NET.server}:69`, '-s', site.root]);
      child.stdout?.resume();
      child.stderr?.resume();
      await listening(site, child, 'u', 69);
      return child;
    },
  },
];
