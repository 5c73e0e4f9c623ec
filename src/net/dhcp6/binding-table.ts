import { ExpiryHeap } from '../pool/expiry-heap.js';
import { FreeQueue } from '../pool/free-queue.js';
import { HeldOffers, MIN_OFFER_AGE_TO_TAKE_BACK_MS, type HeldOffer } from '../pool/held-offers.js';

export interface Dhcp6BindingTableConfig {
  first: bigint;
  last: bigint;
  /** How long a bound address lasts without a RENEW: the valid lifetime. */
  validMs: number;
  /** How long an ADVERTISE keeps its address for a REQUEST that may never come. */
  advertiseHoldMs: number;
  /** Most bindings kept at once (advertised and bound): the table's memory bound. */
  maxBindings: number;
}

export type Dhcp6Allocation = { ok: true; address: bigint } | { ok: false; reason: 'pool-exhausted' | 'bindings-full' };

interface Binding {
  address: bigint;
  expiresAt: number;
  /** REQUESTed (or renewed, or Rapid Commit): never taken back for another client. */
  bound: boolean;
}

/** What the table did: a test (or an operator) checks that allocation does not grow with the pool. */
export interface Dhcp6BindingStats {
  /** Addresses examined as candidates for a client without one. */
  probed: number;
  /** Bindings dropped because their time ran out. */
  expired: number;
  /** Advertised, never requested bindings taken back for a new client because the pool or the table was full. */
  advertisesTakenBack: number;
}

/** Expiries handled before each allocation, so one packet never pays for a thousand. */
const RECLAIM_PER_ALLOCATION = 32;

/**
 * DHCPv6 bindings (DUID → address) that end: an advertised address is held briefly, a
 * bound one for the valid lifetime, and an expired binding is forgotten, so memory
 * follows the live bindings, capped at `maxBindings`. A new client gets a never-used
 * address (in range order), else the one free the longest: one allocation is O(log n)
 * amortised whatever the pool size. When the pool or the table is full, the oldest
 * advertised binding nobody requested (once 5 s old) makes room for a new client, so a
 * flood of SOLICITs from new DUIDs cannot lock real clients out for the hold time. Time
 * is passed in; there are no timers.
 */
export class Dhcp6BindingTable {
  readonly stats: Dhcp6BindingStats = { probed: 0, expired: 0, advertisesTakenBack: 0 };
  private readonly advertised = new HeldOffers<bigint>();
  private readonly byClient = new Map<string, Binding>();
  private readonly byAddress = new Map<bigint, string>();
  private readonly freed = new FreeQueue<bigint>();
  private readonly wakeups = new ExpiryHeap<bigint>();
  private fresh: bigint;

  constructor(private readonly config: Dhcp6BindingTableConfig) {
    this.fresh = config.first;
  }

  /** Bindings held now (some may have expired and not been looked at yet). */
  get size(): number {
    return this.byClient.size;
  }

  /** SOLICIT: the client's address (kept as it is if bound), or a new one held briefly. */
  advertise(client: string, now: number): Dhcp6Allocation {
    const b = this.current(client, now);
    if (b) return { ok: true, address: b.address };
    return this.allocate(client, now, now + this.config.advertiseHoldMs, false);
  }

  /** REQUEST, RENEW, Rapid Commit: the client's address (or a new one), bound for the valid lifetime. */
  bind(client: string, now: number): Dhcp6Allocation {
    const expiresAt = now + this.config.validMs;
    const b = this.current(client, now);
    if (b) {
      b.bound = true;
      b.expiresAt = Math.max(b.expiresAt, expiresAt);
      this.wakeups.schedule(b.address, b.expiresAt);
      return { ok: true, address: b.address };
    }
    return this.allocate(client, now, expiresAt, true);
  }

  release(client: string): boolean {
    const b = this.byClient.get(client);
    if (!b) return false;
    this.forget(client, b);
    return true;
  }

  /** The client's binding if it has not expired; an expired one is dropped here. */
  private current(client: string, now: number): Binding | undefined {
    const b = this.byClient.get(client);
    if (b === undefined || b.expiresAt > now) return b;
    this.expire(client, b);
    return undefined;
  }

  private allocate(client: string, now: number, expiresAt: number, bound: boolean): Dhcp6Allocation {
    for (let i = 0; i < RECLAIM_PER_ALLOCATION && this.reclaimOne(now); i++);
    while (this.byClient.size >= this.config.maxBindings) {
      if (this.reclaimOne(now)) continue;
      const old = this.takeBackOldestAdvertise(now);
      if (!old) return { ok: false, reason: 'bindings-full' };
      this.forget(old.client, this.byClient.get(old.client)!);
    }
    for (;;) {
      let a: bigint | undefined;
      if (this.fresh <= this.config.last) a = this.fresh++;
      else a = this.freed.shift();
      if (a === undefined && !this.reclaimOne(now)) {
        // Nothing free and nothing due: only an advertise nobody requested can make room.
        const old = this.takeBackOldestAdvertise(now);
        if (!old) return { ok: false, reason: 'pool-exhausted' };
        this.byClient.delete(old.client);
        this.byAddress.delete(old.address);
        a = old.address;
      }
      if (a !== undefined) {
        this.stats.probed++;
        // Never-used and queued addresses are free: only `forget` queues one, once nobody holds it.
        this.byClient.set(client, { address: a, expiresAt, bound });
        this.byAddress.set(a, client);
        this.wakeups.schedule(a, expiresAt);
        if (!bound) this.advertised.push({ client, address: a, expiresAt }, this.byClient.size, this.liveAdvertise);
        return { ok: true, address: a };
      }
    }
  }

  private takeBackOldestAdvertise(now: number): HeldOffer<bigint> | undefined {
    const o = this.advertised.takeOldest((x) => x.expiresAt - this.config.advertiseHoldMs <= now - MIN_OFFER_AGE_TO_TAKE_BACK_MS, this.liveAdvertise);
    if (o) this.stats.advertisesTakenBack++;
    return o;
  }

  private readonly liveAdvertise = (o: HeldOffer<bigint>): boolean => {
    const b = this.byClient.get(o.client);
    return b !== undefined && !b.bound && b.address === o.address && b.expiresAt === o.expiresAt;
  };

  /** Handles one expiry due at `now`: drops the binding if its time ran out, else looks again later. */
  private reclaimOne(now: number): boolean {
    const a = this.wakeups.popDue(now);
    if (a === undefined) return false;
    const client = this.byAddress.get(a);
    const b = client === undefined ? undefined : this.byClient.get(client);
    if (client !== undefined && b !== undefined) {
      if (b.expiresAt > now) this.wakeups.schedule(a, b.expiresAt);
      else this.expire(client, b);
    }
    return true;
  }

  private expire(client: string, b: Binding): void {
    this.stats.expired++;
    this.forget(client, b);
  }

  private forget(client: string, b: Binding): void {
    this.byClient.delete(client);
    if (this.byAddress.get(b.address) === client) {
      this.byAddress.delete(b.address);
      this.freed.push(b.address);
    }
  }
}
