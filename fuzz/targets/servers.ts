import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dhcp4Server, type Dhcp4ServerEvent } from '../../src/net/dhcp4/server.js';
import { ProxyDhcpServer } from '../../src/net/dhcp4/proxy-server.js';
import { Dhcp6Server } from '../../src/net/dhcp6/server.js';
import { TftpServer, type TftpServerEvent } from '../../src/net/tftp/server.js';
import { decodeDhcp4 } from '../../src/protocol/dhcp4/packet.js';
import { decodeDhcp6, encodeDhcp6 } from '../../src/protocol/dhcp6/message.js';
import { decodeTftp, encodeTftp } from '../../src/protocol/tftp/packet.js';
import { memoryNet, type MemoryPort } from '../memory-net.js';
import { Violation, ascii, describe, type FuzzTarget } from '../target.js';
import { dhcp4 } from './dhcp4.js';
import { dhcp6 } from './dhcp6.js';
import { tftp } from './tftp.js';

/** Drop reasons that mean the server hit its own bug, not the peer's bad bytes. */
const BUG_REASONS = ['internal', 'encode-failed'];

function noBugDrops(dropped: Record<string, number>, events: Array<{ detail?: string }>): void {
  for (const reason of BUG_REASONS) {
    if (dropped[reason]) throw new Violation(`server dropped a datagram as '${reason}': ${events.map((e) => e.detail).filter((d) => d?.startsWith(reason)).at(-1) ?? ''}`);
  }
}

function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= make());
}

/** Each input comes from its own client port, so per-peer state (TFTP's TIDs) does not pile up. */
let peerPort = 1024;
const nextPeer = (address: string) => ({ address, port: (peerPort = peerPort >= 65535 ? 1024 : peerPort + 1) });

function allSent(ports: MemoryPort[], ok: (b: Uint8Array) => boolean, what: string): void {
  for (const p of ports) {
    for (const s of p.sent.splice(0)) if (!ok(s.bytes)) throw new Violation(`server sent a datagram that is not ${what}: ${Buffer.from(s.bytes).toString('hex').slice(0, 120)}`);
  }
}

/**
 * One datagram into a DHCPv4-speaking server's port: the handler must not throw, drop it
 * for a bug of its own, or send anything but DHCPv4. The outcome label is `lead` (read
 * after delivery, before the sent datagrams are checked and cleared), the first event
 * and its reason.
 */
function deliverDhcp4(
  ports: MemoryPort[],
  port: MemoryPort,
  input: Uint8Array,
  from: string,
  stats: { dropped: Record<string, number> },
  events: Dhcp4ServerEvent[],
  lead: (port: MemoryPort) => string,
): string {
  try {
    port.deliver(input, nextPeer(from));
  } catch (e) {
    throw new Violation(`the receive handler threw ${describe(e)}`);
  }
  const first = lead(port);
  noBugDrops(stats.dropped, events);
  allSent(ports, (b) => decodeDhcp4(b).ok, 'a DHCPv4 message');
  return `${first}:${events[0]?.type ?? ''}:${(events[0]?.detail ?? '').split(':')[0]}`;
}

function dhcp4ServerTarget(): FuzzTarget {
  const events: Dhcp4ServerEvent[] = [];
  const net = memoryNet();
  const server = lazy(async () => {
    const s = new Dhcp4Server(
      {
        bind: { address: '127.0.0.1', port: 67 },
        serverId: '10.9.0.1',
        replyTo: 'source',
        pool: { start: '10.9.0.10', end: '10.9.255.250', subnetMask: '255.255.0.0', leaseSeconds: 3600 },
        options: { defaultUrl: 'http://10.9.0.1/onie-installer' },
      },
      { openPort: net.open, onEvent: (e) => events.length < 64 && events.push(e), now: () => 1_800_000_000_000 },
    );
    await s.start();
    return s;
  });
  return {
    name: 'dhcp4-server',
    corpus: ['dhcp4', 'dhcp4-server'],
    about: 'Dhcp4Server receive path (decode, reply policy, lease pool, encode) over an in-memory port: no bug drops, every reply decodes',
    maxLen: dhcp4.maxLen!,
    arbitrary: dhcp4.arbitrary!,
    dictionary: dhcp4.dictionary!,
    async check(input) {
      const s = await server();
      events.length = 0;
      const before = s.stats.received;
      return deliverDhcp4(net.ports, net.ports[0]!, input, '127.0.0.1', s.stats, events, (port) => {
        if (s.stats.received !== before + 1) throw new Violation('the datagram was not counted as received');
        return String(port.sent.length);
      });
    },
    close: async () => (await server()).stop(),
  };
}

function proxyDhcpTarget(): FuzzTarget {
  const events: Dhcp4ServerEvent[] = [];
  const net = memoryNet();
  const server = lazy(async () => {
    const s = new ProxyDhcpServer(
      {
        bind: { address: '127.0.0.1', port: 67 },
        bootServerBind: { address: '127.0.0.1', port: 4011 },
        serverId: '10.0.0.2',
        replyTo: 'broadcast',
        bootFileInOffer: false,
        classes: [
          { name: 'uefi', match: { arch: [7, 9] }, options: { nextServer: '10.0.0.2', bootFile: 'ipxe.efi' } },
          { name: 'bios', match: { arch: [0] }, options: { nextServer: '10.0.0.2', bootFile: 'undionly.kpxe', pxeDiscoveryControl: 8 } },
        ],
      },
      { openPort: net.open, onEvent: (e) => events.length < 64 && events.push(e) },
    );
    await s.start();
    return s;
  });
  return {
    name: 'proxydhcp',
    corpus: ['dhcp4', 'proxydhcp'],
    about: 'ProxyDhcpServer on both its ports (67 offers, 4011 boot server) over in-memory ports: never throws, every reply decodes',
    maxLen: dhcp4.maxLen!,
    arbitrary: dhcp4.arbitrary!,
    dictionary: dhcp4.dictionary!,
    async check(input) {
      const s = await server();
      events.length = 0;
      // The low bit of the length picks the port, so both roles see every kind of input.
      return deliverDhcp4(net.ports, net.ports[input.length & 1]!, input, '10.0.0.77', s.stats, events, (port) => String(port.bind.port));
    },
    close: async () => (await server()).stop(),
  };
}

/**
 * Dhcp6Server binds node:dgram itself (no port seam yet), so this drives its receive path
 * as the socket handler does, through the public `answer`: decode, answer, encode.
 */
function dhcp6ServerTarget(): FuzzTarget {
  const server = new Dhcp6Server({
    bind: { address: '::1', port: 547 },
    pool: { start: '2001:db8::100', end: '2001:db8::ffff', preferredSeconds: 3600, validSeconds: 7200 },
    options: { bootFileUrl: 'http://[2001:db8::1]/onie-installer', dns: ['2001:db8::53'] },
    classes: [{ name: 'onie', match: { vendorClassPrefix: 'onie_vendor:' }, options: { bootFileUrl: 'http://[2001:db8::1]/onie/x86' } }],
    rapidCommit: true,
  });
  return {
    name: 'dhcp6-server',
    corpus: ['dhcp6', 'dhcp6-server'],
    about: 'Dhcp6Server message handling (decodeDhcp6, answer, encodeDhcp6) in-process: never throws, every reply encodes and decodes',
    maxLen: dhcp6.maxLen!,
    arbitrary: dhcp6.arbitrary!,
    dictionary: dhcp6.dictionary!,
    check(input) {
      const d = decodeDhcp6(input);
      if (!d.ok) return `drop:${d.error.code}`;
      let reply;
      try {
        reply = server.answer(d.value);
      } catch (e) {
        throw new Violation(`answer threw ${describe(e)}`);
      }
      if (!reply) return `none:${d.value.type}`;
      let wire: Uint8Array;
      try {
        wire = encodeDhcp6(reply);
      } catch (e) {
        throw new Violation(`the reply does not encode: ${describe(e)}`);
      }
      if (!decodeDhcp6(wire).ok) throw new Violation('the reply does not decode');
      return `reply:${d.value.type}:${reply.type}`;
    },
  };
}

const TERMINAL = new Set<TftpServerEvent['type']>(['tftp.done', 'tftp.failed', 'tftp.refused', 'tftp.dropped']);
/** How long one request may take to end (file lookups run on libuv's pool); generous for a loaded machine. */
const TFTP_SETTLE_MS = 5000;

function tftpServerTarget(): FuzzTarget {
  const events: TftpServerEvent[] = [];
  let ended = 0;
  let root = '';
  // Plays the client: the first DATA or OACK of a transfer is answered with ERROR, which
  // ends it at once instead of leaving a retransmit timer per input.
  const net = memoryNet((port, bytes, to) => {
    if (port.bind.port !== 0) return;
    const d = decodeTftp(bytes);
    if (d.ok && (d.value.op === 'data' || d.value.op === 'oack')) queueMicrotask(() => port.deliver(encodeTftp({ op: 'error', code: 0, message: 'fuzz peer done' }), to));
  });
  const server = lazy(async () => {
    root = mkdtempSync(join(tmpdir(), 'bootlab-fuzz-tftp-'));
    mkdirSync(join(root, 'pxelinux.cfg'));
    writeFileSync(join(root, 'pxelinux.0'), Buffer.alloc(3000, 0x5a));
    writeFileSync(join(root, 'pxelinux.cfg', 'default'), 'DEFAULT onie\n');
    const s = new TftpServer(
      { root, bind: { address: '127.0.0.1', port: 69 }, maxRetries: 1, retransmitMs: 50 },
      {
        openPort: net.open,
        content: ({ filename }) => (filename.startsWith('gen/') ? new Uint8Array(700).fill(1) : undefined),
        onEvent: (e) => {
          if (events.length < 64) events.push(e);
          if (TERMINAL.has(e.type)) ended++;
        },
      },
    );
    await s.start();
    return s;
  });
  return {
    name: 'tftp-server',
    corpus: ['tftp', 'tftp-server'],
    about: 'TftpServer request port (decode, path resolution under the root, option negotiation, transfer start) over in-memory ports with a peer that aborts each transfer',
    maxLen: tftp.maxLen!,
    arbitrary: tftp.arbitrary!,
    dictionary: [...tftp.dictionary!, ...ascii('pxelinux.0\0', 'pxelinux.cfg/default\0', 'gen/x\0', '../\0', '/etc/passwd\0')],
    async check(input) {
      await server();
      events.length = 0;
      const target = ended + 1;
      const started = performance.now();
      net.ports[0]!.deliver(input, nextPeer('127.0.0.1'));
      while (ended < target) {
        if (performance.now() - started > TFTP_SETTLE_MS) throw new Violation(`request did not end within ${TFTP_SETTLE_MS} ms: ${events.map((e) => e.type).join(', ')}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
      for (const e of events) {
        if (e.type === 'tftp.failed' && !/^client error /.test(e.detail ?? '')) throw new Violation(`transfer failed inside the server: ${e.detail}`);
      }
      allSent(net.ports, (b) => decodeTftp(b).ok, 'a TFTP packet');
      const last = events.filter((e) => TERMINAL.has(e.type)).at(-1);
      // The first and last words of the detail name the branch without the peer's values
      // ("mode … is not supported", "blksize … is below 8"), so outcomes stay countable.
      const words = (last?.detail ?? '').split(/\s+/);
      return `${last?.type ?? ''}:${words[0]}:${words.length > 1 ? words.at(-1) : ''}`;
    },
    close: async () => {
      await (await server()).stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export const serverTargets = (): FuzzTarget[] => [dhcp4ServerTarget(), proxyDhcpTarget(), dhcp6ServerTarget(), tftpServerTarget()];
