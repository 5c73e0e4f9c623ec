/**
 * Who may hold a connection to a server: at most `maxConnections` at once, at most
 * `maxPerClient` from one address. Only bookkeeping (no sockets, no timers), so the
 * server decides what refusing or evicting means for its sockets.
 *
 * When the total is full, a newcomer takes the slot of the connection that has been idle
 * (no request in flight) the longest, rather than being refused: an idle connection costs
 * its holder nothing to reopen, and otherwise a crowd of silent peers from many addresses
 * would lock every real client out. Connections busy with a response are never evicted;
 * the per-client cap keeps one address from holding many of them.
 */
export interface ConnectionLimits {
  maxConnections: number;
  maxPerClient: number;
}

export type Admission<T> = { ok: true; evicted?: T } | { ok: false; reason: 'max-per-client' | 'max-connections' };

interface Entry {
  client: string;
  /** Requests in flight on this connection (node answers a connection's requests one at a time). */
  busy: number;
}

export class ConnectionBudget<T> {
  private readonly entries = new Map<T, Entry>();
  private readonly perClient = new Map<string, number>();
  /** Idle connections, longest idle first (a Map keeps insertion order). */
  private readonly idle = new Map<T, true>();

  constructor(private readonly limits: ConnectionLimits) {
    for (const [name, v] of Object.entries(limits)) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`ConnectionBudget: ${name} must be a positive integer, got ${v}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** Counts `item` in, or says why not; an evicted connection is already counted out. */
  admit(client: string, item: T): Admission<T> {
    let evicted: T | undefined;
    if ((this.perClient.get(client) ?? 0) >= this.limits.maxPerClient) {
      // A client past its cap makes room with its own longest-idle connection (a keep-alive
      // one its HTTP library forgot); only a client whose every connection is busy is refused.
      evicted = this.oldestIdleOf(client);
      if (evicted === undefined) return { ok: false, reason: 'max-per-client' };
      this.release(evicted);
    } else if (this.entries.size >= this.limits.maxConnections) {
      const oldest = this.idle.keys().next();
      if (oldest.done) return { ok: false, reason: 'max-connections' };
      evicted = oldest.value;
      this.release(evicted);
    }
    this.entries.set(item, { client, busy: 0 });
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    this.idle.set(item, true);
    return evicted === undefined ? { ok: true } : { ok: true, evicted };
  }

  /** A request started on `item`: it cannot be evicted until it ends. */
  busy(item: T): void {
    const e = this.entries.get(item);
    if (!e) return;
    e.busy++;
    this.idle.delete(item);
  }

  isBusy(item: T): boolean {
    return (this.entries.get(item)?.busy ?? 0) > 0;
  }

  /** A request on `item` ended; with none left it is idle, the newest idle one. */
  done(item: T): void {
    const e = this.entries.get(item);
    if (!e || e.busy === 0) return;
    if (--e.busy === 0) this.idle.set(item, true);
  }

  private oldestIdleOf(client: string): T | undefined {
    for (const item of this.idle.keys()) if (this.entries.get(item)?.client === client) return item;
    return undefined;
  }

  /** Counts `item` out (its socket closed); a second call, or one for an evicted item, does nothing. */
  release(item: T): void {
    const e = this.entries.get(item);
    if (!e) return;
    this.entries.delete(item);
    this.idle.delete(item);
    const n = (this.perClient.get(e.client) ?? 1) - 1;
    if (n === 0) this.perClient.delete(e.client);
    else this.perClient.set(e.client, n);
  }
}
