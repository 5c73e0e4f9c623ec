import { createSocket } from 'node:dgram';
import type { Clock } from '../../clock.js';
import { PeerError, TimeoutError } from '../../errors.js';
import type { Random } from '../../random.js';
import { Dhcp6MessageType, Dhcp6Option, decodeDhcp6, encodeDhcp6, getOption6, optionDataOffset6, type Dhcp6Message, type Dhcp6OptionEntry } from '../../protocol/dhcp6/message.js';
import { decodeIaNa, encodeIaNa, encodeOro } from '../../protocol/dhcp6/options.js';

export interface Dhcp6ClientOptions {
  server: { address: string; port: number };
  bind?: { address: string; port: number };
  /** The client's DUID (option 1). */
  duid: Uint8Array;
  iaid: number;
  /** Options to send as well (user class, vendor class, architecture). */
  options: Dhcp6OptionEntry[];
  /** Option codes asked for in the ORO, e.g. 59 (boot file URL) and 23 (DNS). */
  request: number[];
  attempts: number;
  retryMs: number;
  clock: Clock;
  random: Random;
  signal?: AbortSignal;
}

export interface Dhcp6Lease {
  address: string;
  serverDuid: Uint8Array;
  bootFileUrl?: string;
  reply: Dhcp6Message;
}

/** SOLICIT → ADVERTISE → REQUEST → REPLY (RFC 8415 §18), timers from the given clock. */
export async function acquireLease6(o: Dhcp6ClientOptions): Promise<Dhcp6Lease> {
  o.signal?.throwIfAborted();
  const socket = createSocket({ type: 'udp6', reuseAddr: false });
  const bind = o.bind ?? { address: '::1', port: 0 };
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(bind.port, bind.address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => undefined);
  const inbox: Dhcp6Message[] = [];
  let wake: (() => void) | undefined;
  const transactionId = o.random.u32() & 0xffffff;
  socket.on('message', (msg) => {
    const d = decodeDhcp6(msg);
    if (!d.ok || d.value.transactionId !== transactionId) return;
    inbox.push(d.value);
    wake?.();
  });
  const ia = { code: Dhcp6Option.IA_NA, data: encodeIaNa({ iaid: o.iaid, t1: 0, t2: 0, addresses: [], options: [] }) };
  const message = (type: number, extra: Dhcp6OptionEntry[]): Dhcp6Message => ({
    type,
    transactionId,
    options: [{ code: Dhcp6Option.CLIENTID, data: o.duid }, ...extra, { code: Dhcp6Option.ELAPSED_TIME, data: new Uint8Array(2) }, ia, { code: Dhcp6Option.ORO, data: encodeOro(o.request) }, ...o.options],
  });
  const exchange = async (out: Dhcp6Message, want: number, what: string): Promise<Dhcp6Message> => {
    for (let attempt = 0; attempt < o.attempts; attempt++) {
      socket.send(encodeDhcp6(out), o.server.port, o.server.address);
      const got = await new Promise<Dhcp6Message | undefined>((resolve, reject) => {
        const take = (): boolean => {
          const i = inbox.findIndex((m) => m.type === want);
          if (i < 0) return false;
          clearTimeout();
          resolve(inbox.splice(i, 1)[0]);
          return true;
        };
        const timer = o.clock.setTimeout(() => {
          wake = undefined;
          resolve(undefined);
        }, o.retryMs);
        const clearTimeout = (): void => {
          o.clock.clearTimeout(timer);
          wake = undefined;
          o.signal?.removeEventListener('abort', onAbort);
        };
        const onAbort = (): void => {
          clearTimeout();
          reject(o.signal?.reason);
        };
        o.signal?.addEventListener('abort', onAbort, { once: true });
        if (!take()) wake = () => void take();
      });
      if (got) return got;
    }
    throw new TimeoutError(`DHCPv6 ${what} (${o.attempts} tries)`, o.attempts * o.retryMs);
  };
  try {
    const advertise = await exchange(message(Dhcp6MessageType.SOLICIT, []), Dhcp6MessageType.ADVERTISE, 'solicit');
    const serverDuid = getOption6(advertise, Dhcp6Option.SERVERID);
    if (!serverDuid) throw new PeerError('BL_DHCP6_NO_SERVERID', 'ADVERTISE without a server DUID');
    const reply = await exchange(message(Dhcp6MessageType.REQUEST, [{ code: Dhcp6Option.SERVERID, data: serverDuid }]), Dhcp6MessageType.REPLY, 'request');
    const iaData = getOption6(reply, Dhcp6Option.IA_NA);
    const iaReply = iaData ? decodeIaNa(iaData, optionDataOffset6(reply, Dhcp6Option.IA_NA)) : undefined;
    if (iaReply && !iaReply.ok) throw new PeerError('BL_DHCP6_NO_ADDRESS', `REPLY with a malformed IA_NA: ${iaReply.error.message}`, { cause: iaReply.error });
    const address = iaReply?.value.addresses[0]?.address;
    if (!address) throw new PeerError('BL_DHCP6_NO_ADDRESS', 'REPLY without an IA_NA address');
    const url = getOption6(reply, Dhcp6Option.BOOTFILE_URL);
    return { address, serverDuid, reply, ...(url ? { bootFileUrl: Buffer.from(url).toString('utf8') } : {}) };
  } finally {
    socket.close();
  }
}
