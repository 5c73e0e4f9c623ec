import { parseIpv4 } from '../../protocol/dhcp4/packet.js';
import { ExpiryHeap } from '../pool/expiry-heap.js';
import { FreeQueue } from '../pool/free-queue.js';
import { HeldOffers, MIN_OFFER_AGE_TO_TAKE_BACK_MS, type HeldOffer } from '../pool/held-offers.js';

export interface LeasePoolConfig {
  start: string;
  end: string;
  leaseSeconds: number;
  /** How long an offered address stays reserved for the client it was offered to. */
  offerHoldMs?: number;
  /** Addresses in the range that are never handed out (the server's own, for one). */
  exclude?: readonly string[];
  /** Addresses kept for one client each (see `offer`'s `reserved`); they may lie outside the range. */
  reserved?: readonly string[];
}

interface Binding {
  address: number;
  state: 'offered' | 'bound';
  expiresAt: number;
}

/** RFC 2131 §4.3.1 leaves the hold time to the server; long enough for a slow REQUEST. */
const DEFAULT_OFFER_HOLD_MS = 60_000;
/** How long a declined address (someone else answers ARP for it) stays out of use. */
const DECLINE_HOLD_MS = 10 * 60_000;
/** Expiries looked at before each allocation, so the free queue stays in expiry order without one packet paying for a thousand. */
const RECLAIM_PER_OFFER = 32;

/** What allocation cost: a test (or an operator) checks that it does not grow with the pool. */
export interface LeasePoolStats {
  /** Addresses examined as candidates for a client without an address of its own. */
  probed: number;
  /** Expiries processed (an offer or lease timing out, a decline hold ending). */
  reclaimed: number;
  /** Offers taken back, oldest first, because the pool was full and a new client asked. */
  offersTakenBack: number;
}

/**
 * Addresses of one range and who holds them. A client (its lease key, lease-key.ts)
 * keeps affinity to its last address, so it is offered the same one
 * again while nobody else took it. Time is passed in, and expiry is checked when an
 * address is looked at: no timers, so the pool is as deterministic as the clock.
 *
 * A new client gets a never-used address first (in range order), then the one that has
 * been free the longest. Addresses come free through an expiry heap and a FIFO, so one
 * allocation costs O(log n) amortised whatever the pool size: nothing scans the range. A
 * pool with nothing free takes back its oldest unrequested offer (once 5 s old) for a new
 * client, and refuses at once when every address is leased or freshly offered.
 */
export class LeasePool {
  private readonly first: number;
  private readonly last: number;
  private readonly holdMs: number;
  private readonly leaseMs: number;
  private readonly byClient = new Map<string, Binding>();
  private readonly byAddress = new Map<number, string>();
  private readonly declined = new Map<number, number>();
  private readonly excluded: Set<number>;
  private readonly reserved: Set<number>;
  /** The next address never handed out; past `last` once the range has been used once. */
  private fresh: number;
  /** Addresses that were held and came free, oldest first. */
  private readonly freed = new FreeQueue<number>();
  /** When held or declined addresses must be looked at again. */
  private readonly wakeups = new ExpiryHeap<number>();
  /** Offers in the order made, for taking the oldest back when the pool is full. */
  private readonly offers = new HeldOffers<number>();
  readonly stats: LeasePoolStats = { probed: 0, reclaimed: 0, offersTakenBack: 0 };

  constructor(config: LeasePoolConfig) {
    this.first = toU32(config.start, 'pool.start');
    this.last = toU32(config.end, 'pool.end');
    if (this.first > this.last) throw new RangeError(`pool.start ${config.start} is after pool.end ${config.end}`);
    if (!(config.leaseSeconds > 0)) throw new RangeError(`pool.leaseSeconds must be positive, got ${config.leaseSeconds}`);
    this.leaseMs = config.leaseSeconds * 1000;
    this.holdMs = config.offerHoldMs ?? DEFAULT_OFFER_HOLD_MS;
    this.excluded = new Set((config.exclude ?? []).map((a) => toU32(a, 'excluded address')));
    this.reserved = new Set((config.reserved ?? []).map((a) => toU32(a, 'reserved address')));
    this.fresh = this.first;
  }

  get size(): number {
    return this.last - this.first + 1 - [...this.excluded].filter((a) => this.inRange(a)).length;
  }

  contains(address: string): boolean {
    const a = parseIpv4(address);
    return a !== undefined && this.inRange(u32(a));
  }

  /**
   * Reserves an address for `client`: its current or previous one if still free, else
   * the one it asked for (option 50) if free, else a never-used one, else the one free
   * the longest. Undefined when the pool is exhausted.
   */
  offer(client: string, now: number, requested?: string, reserved?: string): string | undefined {
    if (reserved !== undefined) {
      // A reservation wins over affinity and over what the client asks for.
      const a = toU32(reserved, 'reserved address');
      if (!this.usableBy(a, client, now, true)) return undefined;
      const current = this.byClient.get(client);
      if (!(current?.address === a && current.state === 'bound' && current.expiresAt > now)) this.bind(client, a, 'offered', now + this.holdMs);
      return reserved;
    }
    const previous = this.byClient.get(client);
    if (previous && this.usableBy(previous.address, client, now)) {
      if (previous.state === 'bound' && previous.expiresAt > now) return toDotted(previous.address);
      this.bind(client, previous.address, 'offered', now + this.holdMs);
      return toDotted(previous.address);
    }
    const wanted = requested !== undefined ? parseIpv4(requested) : undefined;
    if (wanted && this.usableBy(u32(wanted), client, now)) {
      this.bind(client, u32(wanted), 'offered', now + this.holdMs);
      return toDotted(u32(wanted));
    }
    const a = this.nextFree(client, now);
    if (a === undefined) return undefined;
    this.bind(client, a, 'offered', now + this.holdMs);
    return toDotted(a);
  }

  private nextFree(client: string, now: number): number | undefined {
    for (let i = 0; i < RECLAIM_PER_OFFER && this.reclaimOne(now); i++);
    for (;;) {
      let a: number | undefined;
      if (this.fresh <= this.last) a = this.fresh++;
      else a = this.freed.shift();
      if (a !== undefined) {
        this.stats.probed++;
        // A busy one (taken on request, restored) is dropped here; its expiry queues it again.
        if (this.usableBy(a, client, now)) return a;
        continue;
      }
      // Nothing queued: only an expiry due now can free one, else the oldest offer nobody
      // requested; neither means every address is leased or freshly offered: exhausted.
      if (!this.reclaimOne(now)) return this.takeBackOldestOffer(now);
    }
  }

  /**
   * RFC 2131 §4.3.1 asks a server not to reuse an offered address before the client
   * answers, but only SHOULD: holding them all for a flood of DISCOVERs that never REQUEST
   * would lock every real client out for the hold time (Kea and dnsmasq hold none). So a
   * full pool takes back its oldest unrequested offer once it is a few seconds old; that
   * client, if it was real and REQUESTs after all, gets a NAK and starts again.
   */
  private takeBackOldestOffer(now: number): number | undefined {
    const o = this.offers.takeOldest((x) => x.expiresAt - this.holdMs <= now - MIN_OFFER_AGE_TO_TAKE_BACK_MS, this.liveOffer);
    if (!o) return undefined;
    this.byClient.delete(o.client);
    this.byAddress.delete(o.address);
    this.stats.offersTakenBack++;
    return o.address;
  }

  private readonly liveOffer = (o: HeldOffer<number>): boolean => {
    const b = this.byClient.get(o.client);
    return b !== undefined && b.state === 'offered' && b.address === o.address && b.expiresAt === o.expiresAt && this.poolAddress(o.address);
  };

  /** Handles one expiry due at `now`: a free address joins the queue, a renewed one is rescheduled. */
  private reclaimOne(now: number): boolean {
    const a = this.wakeups.popDue(now);
    if (a === undefined) return false;
    this.stats.reclaimed++;
    const busyUntil = this.busyUntil(a, now);
    if (busyUntil === undefined) this.freed.push(a);
    else this.wakeups.schedule(a, busyUntil);
    return true;
  }

  /** When a pool address stops being held or declined; undefined if it is free now. */
  private busyUntil(a: number, now: number): number | undefined {
    let until: number | undefined;
    const declinedUntil = this.declined.get(a);
    if (declinedUntil !== undefined) {
      if (declinedUntil > now) until = declinedUntil;
      else this.declined.delete(a);
    }
    const holder = this.byAddress.get(a);
    const b = holder === undefined ? undefined : this.byClient.get(holder);
    if (b && b.expiresAt > now) until = Math.max(until ?? 0, b.expiresAt);
    return until;
  }

  /** In the range and handed out to anyone: not excluded, not kept for a reservation. */
  private poolAddress(a: number): boolean {
    return this.inRange(a) && !this.excluded.has(a) && !this.reserved.has(a);
  }

  /** Binds `address` to `client` for the lease time; false if it is not ours to give. */
  commit(client: string, address: string, now: number, reservedForClient = false): boolean {
    const a = parseIpv4(address);
    if (!a || !this.usableBy(u32(a), client, now, reservedForClient)) return false;
    this.bind(client, u32(a), 'bound', now + this.leaseMs);
    return true;
  }

  /** Drops an offer the client turned down (it selected another server). */
  withdrawOffer(client: string): void {
    const b = this.byClient.get(client);
    if (b?.state === 'offered') this.unbind(client, b);
  }

  release(client: string, address: string): boolean {
    const b = this.byClient.get(client);
    const a = parseIpv4(address);
    if (!b || !a || b.address !== u32(a)) return false;
    this.unbind(client, b);
    return true;
  }

  /** The client found the address in use (RFC 2131 §3.1.5): keep it out of the pool a while. */
  decline(client: string, address: string, now: number): boolean {
    const a = parseIpv4(address);
    if (!a || !this.inRange(u32(a))) return false;
    const b = this.byClient.get(client);
    this.declined.set(u32(a), now + DECLINE_HOLD_MS);
    if (b && b.address === u32(a)) this.unbind(client, b);
    if (this.poolAddress(u32(a))) this.wakeups.schedule(u32(a), now + DECLINE_HOLD_MS);
    return true;
  }

  /** Re-creates a lease read back from the lease file (ignored if it has expired or is not ours). */
  restore(client: string, address: string, expiresAt: number, now: number): boolean {
    const a = parseIpv4(address);
    if (!a || expiresAt <= now || !this.usableBy(u32(a), client, now, this.reserved.has(u32(a)))) return false;
    this.bind(client, u32(a), 'bound', expiresAt);
    return true;
  }

  leaseSecondsLeft(client: string, now: number): number | undefined {
    const b = this.byClient.get(client);
    return b?.state === 'bound' && b.expiresAt > now ? Math.ceil((b.expiresAt - now) / 1000) : undefined;
  }

  /** `owner`: the caller vouches that `a` is reserved for `client`. */
  private usableBy(a: number, client: string, now: number, owner = false): boolean {
    if (this.reserved.has(a) ? !owner : !this.inRange(a) || this.excluded.has(a)) return false;
    const declinedUntil = this.declined.get(a);
    if (declinedUntil !== undefined) {
      if (declinedUntil > now) return false;
      this.declined.delete(a);
    }
    const holder = this.byAddress.get(a);
    if (holder === undefined || holder === client) return true;
    const b = this.byClient.get(holder);
    return b === undefined || b.expiresAt <= now;
  }

  private bind(client: string, a: number, state: Binding['state'], expiresAt: number): void {
    const previous = this.byClient.get(client);
    if (previous && previous.address !== a) this.unbind(client, previous);
    const other = this.byAddress.get(a);
    // The previous holder's time ran out; it loses its affinity to this address.
    if (other !== undefined && other !== client) this.byClient.delete(other);
    this.byClient.set(client, { address: a, state, expiresAt });
    this.byAddress.set(a, client);
    if (this.poolAddress(a)) this.wakeups.schedule(a, expiresAt);
    if (state === 'offered') this.offers.push({ client, address: a, expiresAt }, this.byClient.size, this.liveOffer);
  }

  private unbind(client: string, b: Binding): void {
    this.byClient.delete(client);
    if (this.byAddress.get(b.address) !== client) return;
    this.byAddress.delete(b.address);
    // Free now, unless declined: then the shift drops it and the decline's expiry brings it back.
    if (this.poolAddress(b.address)) this.freed.push(b.address);
  }

  private inRange(a: number): boolean {
    return a >= this.first && a <= this.last;
  }
}

function toU32(text: string, what: string): number {
  const b = parseIpv4(text);
  if (!b) throw new RangeError(`${what}: '${text}' is not a dotted IPv4 address`);
  return u32(b);
}

function u32(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function toDotted(a: number): string {
  return [a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff].join('.');
}
