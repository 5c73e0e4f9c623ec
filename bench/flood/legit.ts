/**
 * The legitimate client of each attack: one complete exchange per attempt, timed from the
 * first packet sent to the last one received, each checked (the address was granted, the
 * file arrived whole). A failed attempt is an error row with its reason, never a fast one.
 */
import { createHash, randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { request } from 'node:http';
import { dhcp4Request, decodeDhcp4, encodeDhcp4, type Dhcp4Packet } from '../../src/protocol/dhcp4/packet.js';
import { Dhcp4MessageType, getOption, ipOption, messageType, messageTypeOption, u8ListOption } from '../../src/protocol/dhcp4/options.js';
import { decodeDhcp6, encodeDhcp6, getOption6, Dhcp6MessageType, Dhcp6Option, type Dhcp6Message } from '../../src/protocol/dhcp6/message.js';
import { decodeIaNa, encodeIaNa } from '../../src/protocol/dhcp6/options.js';
import { decodeTftp, encodeTftp } from '../../src/protocol/tftp/packet.js';

export type Probe = () => Promise<void>;

/** A client resends an unanswered message after this long (RFC 8415's SOL_TIMEOUT; TFTP clients alike). */
const RESEND_MS = 1000;

/** Sends, resends every RESEND_MS, and resolves with the first reply `match` accepts. */
async function exchange<T>(waiters: Set<(m: T) => boolean>, match: (m: T) => boolean, send: () => void, ms: number, what: string): Promise<T> {
  const reply = awaitReply(waiters, match, ms, what);
  send();
  const resend = setInterval(send, RESEND_MS);
  try {
    return await reply;
  } finally {
    clearInterval(resend);
  }
}

/** Waits for the first message `match` accepts, or fails after `ms` naming what it waited for. */
function awaitReply<T>(waiters: Set<(m: T) => boolean>, match: (m: T) => boolean, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = (m: T): boolean => {
      if (!match(m)) return false;
      clearTimeout(timer);
      waiters.delete(w);
      resolve(m);
      return true;
    };
    const timer = setTimeout(() => {
      waiters.delete(w);
      reject(new Error(`no ${what} within ${ms} ms`));
    }, ms);
    waiters.add(w);
  });
}

const bind = (s: Socket, port: number, address: string): Promise<void> =>
  new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(port, address, () => {
      s.off('error', reject);
      resolve();
    });
  });

/**
 * DISCOVER → OFFER → REQUEST → ACK from port 68, replies taken from the broadcasts by xid:
 * during a flood every offer to an attacker arrives here too, as on a real segment. Each
 * message is resent every second until answered (faster than RFC 2131's 4 s, so a lost
 * packet costs the attempt a second, not most of its time).
 */
export async function dhcp4Client(fixedMac: string, fresh: boolean, timeoutMs: number): Promise<{ probe: Probe; close(): void }> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  await bind(socket, 68, '0.0.0.0');
  socket.setBroadcast(true);
  const waiters = new Set<(m: Dhcp4Packet) => boolean>();
  socket.on('message', (bytes) => {
    const d = decodeDhcp4(bytes);
    if (d.ok && d.value.op === 'reply') for (const w of waiters) if (w(d.value)) break;
  });
  const send = (p: Dhcp4Packet): void => socket.send(encodeDhcp4(p), 67, '255.255.255.255');
  const params = u8ListOption(55, [1, 3, 6, 66, 67, 114]);
  let n = 0;
  const probe = async (): Promise<void> => {
    const xid = randomInt(1, 2 ** 31);
    // A fresh client is a machine the server has never seen, as when a new rack powers on.
    const mac = fresh ? `${fixedMac.slice(0, 9)}${[(n >> 16) & 0xff, (n >> 8) & 0xff, n++ & 0xff].map((x) => x.toString(16).padStart(2, '0')).join(':')}` : fixedMac;
    const mine = (type: number) => (m: Dhcp4Packet) => m.xid === xid && m.chaddr === mac && messageType(m) === type;
    const discover = dhcp4Request({ xid, chaddr: mac, broadcast: true, options: [messageTypeOption(Dhcp4MessageType.DISCOVER), params] });
    const o = await exchange(waiters, mine(Dhcp4MessageType.OFFER), () => send(discover), timeoutMs, 'OFFER');
    const serverId = getOption(o, 54);
    if (!serverId) throw new Error('OFFER without a server identifier');
    const req = dhcp4Request({ xid, chaddr: mac, broadcast: true, options: [messageTypeOption(Dhcp4MessageType.REQUEST), ipOption(50, o.yiaddr), { code: 54, data: serverId }, params] });
    const acked = (m: Dhcp4Packet): boolean => m.xid === xid && m.chaddr === mac && (messageType(m) === Dhcp4MessageType.ACK || messageType(m) === Dhcp4MessageType.NAK);
    const a = await exchange(waiters, acked, () => send(req), timeoutMs, 'ACK');
    if (messageType(a) !== Dhcp4MessageType.ACK) throw new Error(`NAK for ${o.yiaddr}`);
    if (a.yiaddr !== o.yiaddr) throw new Error(`ACK for ${a.yiaddr}, offered ${o.yiaddr}`);
  };
  return { probe, close: () => socket.close() };
}

/** SOLICIT → ADVERTISE → REQUEST → REPLY to ff02::1:2 from `source` (a link-local address with its zone). */
export async function dhcp6Client(source: string, zone: string, fixedDuid: Uint8Array, fresh: boolean, timeoutMs: number): Promise<{ probe: Probe; close(): void }> {
  const socket = createSocket({ type: 'udp6' });
  await bind(socket, 546, `${source}%${zone}`);
  const waiters = new Set<(m: Dhcp6Message) => boolean>();
  socket.on('message', (bytes) => {
    const d = decodeDhcp6(bytes);
    if (d.ok) for (const w of waiters) if (w(d.value)) break;
  });
  const send = (m: Dhcp6Message): void => socket.send(encodeDhcp6(m), 547, `ff02::1:2%${zone}`);
  const ia = encodeIaNa({ iaid: 1, t1: 0, t2: 0, addresses: [], options: [] });
  const elapsed = { code: Dhcp6Option.ELAPSED_TIME, data: new Uint8Array(2) };
  let n = 0;
  const probe = async (): Promise<void> => {
    const transactionId = randomInt(1, 2 ** 24);
    const duid = fresh ? Uint8Array.from([...fixedDuid.subarray(0, fixedDuid.length - 2), (n >> 8) & 0xff, n++ & 0xff]) : fixedDuid;
    const mine = (type: number) => (m: Dhcp6Message) => m.transactionId === transactionId && m.type === type;
    const solicit: Dhcp6Message = { type: Dhcp6MessageType.SOLICIT, transactionId, options: [{ code: Dhcp6Option.CLIENTID, data: duid }, elapsed, { code: Dhcp6Option.IA_NA, data: ia }] };
    const adv = await exchange(waiters, mine(Dhcp6MessageType.ADVERTISE), () => send(solicit), timeoutMs, 'ADVERTISE');
    const serverId = getOption6(adv, Dhcp6Option.SERVERID);
    const offered = granted(adv);
    if (!serverId) throw new Error('ADVERTISE without a server DUID');
    if (!offered) throw new Error('ADVERTISE without an address');
    const request: Dhcp6Message = {
      type: Dhcp6MessageType.REQUEST,
      transactionId,
      options: [{ code: Dhcp6Option.CLIENTID, data: duid }, { code: Dhcp6Option.SERVERID, data: serverId }, elapsed, { code: Dhcp6Option.IA_NA, data: offered.raw }],
    };
    const r = await exchange(waiters, mine(Dhcp6MessageType.REPLY), () => send(request), timeoutMs, 'REPLY');
    if (!granted(r)) throw new Error('REPLY without an address');
  };
  return { probe, close: () => socket.close() };
}

/** The IA_NA of a server message when it holds an address. */
function granted(m: Dhcp6Message): { raw: Uint8Array } | undefined {
  const raw = getOption6(m, Dhcp6Option.IA_NA);
  if (!raw) return undefined;
  const ia = decodeIaNa(raw);
  return ia.ok && ia.value.addresses.length > 0 ? { raw } : undefined;
}

/**
 * A lock-step RRQ of `file` (512-byte blocks, no options) from a fresh port, as a PXE ROM
 * does; the last packet is resent after 1 s of silence, as real clients do, up to 3 times.
 */
export function tftpProbe(server: string, source: string, file: string, sha256: string, timeoutMs: number): Probe {
  return () =>
    new Promise((resolve, reject) => {
      const socket = createSocket({ type: 'udp4' });
      const hash = createHash('sha256');
      let last: { bytes: Buffer; port: number } = { bytes: encodeTftp({ op: 'rrq', filename: file, mode: 'octet', options: [] }), port: 69 };
      let expected = 1;
      let resends = 0;
      let resend: NodeJS.Timeout | undefined;
      const finish = (e?: Error): void => {
        clearTimeout(deadline);
        clearTimeout(resend);
        socket.close();
        if (e) reject(e);
        else resolve();
      };
      const deadline = setTimeout(() => finish(new Error(`transfer not done within ${timeoutMs} ms (at block ${expected})`)), timeoutMs);
      const sendLast = (): void => {
        socket.send(last.bytes, last.port, server);
        clearTimeout(resend);
        resend = setTimeout(() => (++resends > 3 ? finish(new Error(`no answer after 3 resends (block ${expected})`)) : sendLast()), RESEND_MS);
      };
      socket.on('error', (e) => finish(e));
      socket.on('message', (bytes, from) => {
        const d = decodeTftp(bytes);
        if (!d.ok) return;
        const p = d.value;
        if (p.op === 'error') return finish(new Error(`TFTP error ${p.code}: ${p.message}`));
        if (p.op !== 'data' || p.block !== (expected & 0xffff)) return;
        hash.update(p.data);
        resends = 0;
        last = { bytes: encodeTftp({ op: 'ack', block: p.block }), port: from.port };
        expected++;
        if (p.data.length < 512) {
          // Closed only once the final ACK is out: a socket closed right after send()
          // drops the datagram, and the server then holds the transfer (and its place in
          // the per-client budget) until the client's silence runs out.
          const got = hash.digest('hex');
          socket.send(last.bytes, last.port, server, () => finish(got === sha256 ? undefined : new Error(`file differs (sha256 ${got.slice(0, 12)}…)`)));
          clearTimeout(resend);
          return;
        }
        sendLast();
      });
      socket.bind(0, source, sendLast);
    });
}

/** One GET on a new connection from `source`; the body must hash to `sha256`. */
export function httpProbe(host: string, port: number, source: string, path: string, sha256: string, timeoutMs: number): Probe {
  return () =>
    new Promise((resolve, reject) => {
      const req = request({ host, port, path, localAddress: source, agent: false, timeout: timeoutMs }, (res) => {
        const hash = createHash('sha256');
        res.on('data', (d: Buffer) => hash.update(d));
        res.on('error', reject);
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}`));
          const got = hash.digest('hex');
          if (got !== sha256) return reject(new Error(`body differs (sha256 ${got.slice(0, 12)}…)`));
          resolve();
        });
      });
      const deadline = setTimeout(() => req.destroy(new Error(`no complete response within ${timeoutMs} ms`)), timeoutMs);
      req.on('close', () => clearTimeout(deadline));
      req.on('timeout', () => req.destroy(new Error(`idle for ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end();
    });
}
