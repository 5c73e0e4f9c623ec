import type { Clock } from '../../clock.js';
import { PeerError, TimeoutError } from '../../errors.js';
import type { Random } from '../../random.js';
import { decodeDhcp4, dhcp4Request, encodeDhcp4, type Dhcp4OptionEntry, type Dhcp4Packet } from '../../protocol/dhcp4/packet.js';
import {
  Dhcp4MessageType,
  getOption,
  ipOption,
  messageType,
  messageTypeName,
  messageTypeOption,
  readIp,
  readString,
  readU32,
} from '../../protocol/dhcp4/options.js';
import { bindUdp, type DatagramPort, type DatagramPortFactory } from '../datagram-port.js';

const LIMITED_BROADCAST = '255.255.255.255';

export interface Dhcp4ClientOptions {
  /** Where DISCOVER and REQUEST go: 255.255.255.255:67 on a real link, the server's address on loopback. */
  server: { address: string; port: number };
  /**
   * Other listeners on the client's broadcast segment (a DHCP server cabled in beside the
   * relay): on loopback a broadcast is a unicast to `server` and to each of these.
   */
  alsoHeardBy?: readonly { address: string; port: number }[];
  /** Default 127.0.0.1:0. */
  bind?: { address: string; port: number };
  mac: string;
  /** Identity options in wire order; the client puts 53 (and 50, 54 in REQUEST) before them. */
  options: Dhcp4OptionEntry[];
  /** DISCOVERs sent before giving up, and the REQUEST retransmissions allowed. */
  attempts?: number;
  /** Wait for an answer to each, in ms of `clock`. */
  retryMs?: number;
  /**
   * A firmware's own schedule instead of attempts × retryMs: the wait after each
   * transmission (PXE ROMs: 4, 8, 16, 32 s).
   */
  retransmitMs?: readonly number[];
  /** The BOOTP broadcast flag; default: set on a real link (see `server`). */
  broadcastFlag?: boolean;
  /** Offers the firmware would take (EDK2 HTTP Boot drops those without HTTPClient and a URI). */
  acceptOffer?: (offer: Dhcp4Packet) => boolean;
  /**
   * A firmware's choice among the offers seen so far, asked as each one arrives and when
   * each DISCOVER's wait runs out (EDK2 collects a whole wait's offers, then picks by
   * type; iPXE waits for ProxyDHCP). Undefined: keep listening. Default: the first
   * acceptable offer.
   */
  selectOffer?: (offers: readonly Dhcp4Packet[], when: { elapsedMs: number; windowEnded: boolean }) => Dhcp4Packet | undefined;
  clock: Clock;
  random: Random;
  signal?: AbortSignal;
  onEvent?: (e: Dhcp4ClientEvent) => void;
  /** Opens the socket; fault wrappers go here. Default bindUdp. */
  openPort?: DatagramPortFactory;
}

export interface Dhcp4ClientEvent {
  type: 'dhcp.client.send' | 'dhcp.client.receive';
  message: string;
  xid: number;
}

export interface Dhcp4Lease {
  address: string;
  serverId: string;
  leaseSeconds: number;
  offer: Dhcp4Packet;
  ack: Dhcp4Packet;
  /** Every acceptable offer seen before the choice, in arrival order (proxy offers too). */
  offers: Dhcp4Packet[];
}

/** Codes the client writes itself; the same codes in `options` are ignored. */
const CLIENT_OWNED = new Set([53, 50, 54]);

/**
 * DISCOVER → OFFER → REQUEST → ACK: one xid for the whole exchange, DISCOVERs on the
 * schedule (`retransmitMs`, or `attempts` × `retryMs` as busybox udhcpc's -t/-T), then
 * as many REQUESTs for the offer the firmware selects (`selectOffer`; default the first). Rejects TimeoutError when no offer (or no answer to the REQUEST) comes,
 * PeerError BL_DHCP_NAK on a NAK, and the signal's reason when aborted. Replies with
 * another xid or chaddr are ignored. The socket is closed in every case.
 */
export async function acquireLease(o: Dhcp4ClientOptions): Promise<Dhcp4Lease> {
  const schedule = o.retransmitMs ?? Array.from({ length: o.attempts ?? 0 }, () => o.retryMs ?? 0);
  if (schedule.length < 1 || schedule.some((ms) => !(ms > 0))) {
    throw new RangeError(`give retransmitMs, or attempts (a positive integer) and retryMs (> 0): got ${o.attempts} × ${o.retryMs}`);
  }
  const total = schedule.reduce((a, b) => a + b, 0);
  o.signal?.throwIfAborted();
  const chaddr = normalizeMac(o.mac);
  const xid = o.random.u32();
  const onLink = o.server.address === LIMITED_BROADCAST;
  const port = await (o.openPort ?? bindUdp)({ ...(o.bind ?? { address: '127.0.0.1', port: 0 }), broadcast: onLink });
  const inbox = new ReplyInbox(port, xid, chaddr, o);
  try {
    const identity = o.options.filter((e) => !CLIENT_OWNED.has(e.code));
    const message = (type: Dhcp4MessageType, extra: Dhcp4OptionEntry[]): Dhcp4Packet =>
      // A Node socket cannot receive a unicast to an address its interface does not have
      // yet (raw-socket clients like udhcpc can), so on a real link ask for a broadcast reply.
      dhcp4Request({ xid, chaddr, broadcast: o.broadcastFlag ?? onLink, options: [messageTypeOption(type), ...extra, ...identity] });
    const send = async (p: Dhcp4Packet): Promise<void> => {
      o.onEvent?.({ type: 'dhcp.client.send', message: describe(p), xid });
      const bytes = encodeDhcp4(p);
      await port.send(bytes, o.server.address, o.server.port);
      for (const peer of o.alsoHeardBy ?? []) await port.send(bytes, peer.address, peer.port);
    };

    let offer: Dhcp4Packet | undefined;
    const offers: Dhcp4Packet[] = [];
    const acceptable = (p: Dhcp4Packet): boolean =>
      messageType(p) === Dhcp4MessageType.OFFER && serverIdOf(p) !== undefined && (o.acceptOffer?.(p) ?? true);
    const select = o.selectOffer ?? ((seen: readonly Dhcp4Packet[]) => seen[0]);
    let elapsedMs = 0;
    for (let i = 0; i < schedule.length && !offer; i++) {
      await send(message(Dhcp4MessageType.DISCOVER, []));
      const windowStart = elapsedMs;
      const arrived = await inbox.next((p) => {
        if (!acceptable(p)) return false;
        offers.push(p);
        offer = select(offers, { elapsedMs: windowStart, windowEnded: false });
        return offer !== undefined;
      }, schedule[i]!);
      elapsedMs += schedule[i]!;
      if (!arrived) offer = select(offers, { elapsedMs, windowEnded: true });
    }
    if (!offer) throw new TimeoutError(`DHCP discover (${schedule.length} DISCOVERs, ${offers.length > 0 ? `none of ${offers.length} offers taken` : 'no offer'})`, total);
    const serverId = serverIdOf(offer)!;
    const request = message(Dhcp4MessageType.REQUEST, [ipOption(50, offer.yiaddr), ipOption(54, serverId)]);

    for (let i = 0; i < schedule.length; i++) {
      await send(request);
      const answer = await inbox.next((p) => {
        const t = messageType(p);
        return (t === Dhcp4MessageType.ACK || t === Dhcp4MessageType.NAK) && (serverIdOf(p) ?? serverId) === serverId;
      }, schedule[i]!);
      if (!answer) continue;
      if (messageType(answer) === Dhcp4MessageType.NAK) {
        const why = getOption(answer, 56);
        throw new PeerError('BL_DHCP_NAK', `DHCP server ${serverId} refused ${offer.yiaddr}${why ? `: ${readString(why)}` : ''}`);
      }
      const lease = getOption(answer, 51);
      return {
        address: answer.yiaddr,
        serverId,
        leaseSeconds: (lease && readU32(lease)) ?? 0,
        offer,
        ack: answer,
        offers,
      };
    }
    throw new TimeoutError(`DHCP request for ${offer.yiaddr} (${schedule.length} REQUESTs, no answer)`, total);
  } finally {
    inbox.dispose();
    await port.close();
  }
}

/** Decoded replies for this exchange, and waiting for the next one that fits. */
class ReplyInbox {
  private readonly queue: Dhcp4Packet[] = [];
  private waiter: (() => void) | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    port: DatagramPort,
    xid: number,
    chaddr: string,
    private readonly o: Pick<Dhcp4ClientOptions, 'clock' | 'signal' | 'onEvent'>,
  ) {
    this.unsubscribe = port.onMessage((bytes) => {
      const r = decodeDhcp4(bytes);
      if (!r.ok || r.value.op !== 'reply' || r.value.xid !== xid || r.value.chaddr !== chaddr) return;
      o.onEvent?.({ type: 'dhcp.client.receive', message: describe(r.value), xid });
      this.queue.push(r.value);
      this.waiter?.();
    });
  }

  /** The next queued or arriving reply that fits, or undefined after `ms`; others are discarded. */
  next(fits: (p: Dhcp4Packet) => boolean, ms: number): Promise<Dhcp4Packet | undefined> {
    const { clock, signal } = this.o;
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.waiter = undefined;
      };
      const check = (): void => {
        while (this.queue.length > 0) {
          const p = this.queue.shift()!;
          if (fits(p)) {
            settle();
            resolve(p);
            return;
          }
        }
      };
      const onAbort = (): void => {
        settle();
        reject(signal?.reason);
      };
      const timer = clock.setTimeout(() => {
        settle();
        resolve(undefined);
      }, ms);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiter = check;
      check();
    });
  }

  dispose(): void {
    this.unsubscribe();
    this.waiter = undefined;
  }
}

function serverIdOf(p: Dhcp4Packet): string | undefined {
  const data = getOption(p, 54);
  return data ? readIp(data) : undefined;
}

function describe(p: Dhcp4Packet): string {
  const t = messageType(p);
  const name = t === undefined ? 'BOOTP' : messageTypeName(t);
  return p.yiaddr !== '0.0.0.0' ? `${name} ${p.yiaddr}` : name;
}

function normalizeMac(mac: string): string {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6 || parts.some((h) => !/^[0-9a-fA-F]{1,2}$/.test(h))) throw new RangeError(`'${mac}' is not a MAC address`);
  return parts.map((h) => h.toLowerCase().padStart(2, '0')).join(':');
}
