/** A transfer holding a place in the budget. */
export interface TransferSlot {
  readonly address: string;
  /** The peer has answered at least once (an ACK of ours, a DATA block): it is a real client. */
  answered: boolean;
  readonly since: number;
  /** Ends the transfer; called when a newcomer takes its place. */
  evict(reason: string): void;
}

export interface TransferBudgetLimits {
  total: number;
  perClient: number;
  /** A transfer whose peer has been silent this long since it began may give its place to a newcomer. */
  evictUnansweredAfterMs: number;
}

export type Admission = { ok: true; slot: TransferSlot; release(): void } | { ok: false; reason: string };

/**
 * How many transfers run at once, in all and per client address. Each costs two sockets,
 * a file handle and read-ahead memory, so a flood of requests that are never acknowledged
 * (spoofed sources cannot acknowledge) would otherwise exhaust the process. Over the
 * per-client budget a request is refused. Over the total, the oldest transfer whose peer
 * never answered, and that has waited for it at least `evictUnansweredAfterMs`, makes
 * room: a real client answers within a round trip, so a flood from many addresses cannot
 * keep one out; only when every place is held by a peer that answers is the newcomer refused.
 */
export class TransferBudget {
  private readonly slots = new Set<TransferSlot>();
  private readonly perAddress = new Map<string, number>();

  constructor(
    private readonly limits: TransferBudgetLimits,
    private readonly now: () => number,
  ) {
    for (const [name, v] of [
      ['total', limits.total],
      ['perClient', limits.perClient],
    ] as const) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`TFTP transfer budget ${name} must be a positive integer, got ${v}`);
    }
  }

  get active(): number {
    return this.slots.size;
  }

  admit(address: string, evict: (reason: string) => void): Admission {
    const mine = this.perAddress.get(address) ?? 0;
    if (mine >= this.limits.perClient) return { ok: false, reason: `server busy: ${mine} transfers from ${address} already (the limit per client)` };
    if (this.slots.size >= this.limits.total) {
      const victim = this.oldestUnanswered();
      if (!victim) return { ok: false, reason: `server busy: ${this.slots.size} transfers running (the limit)` };
      this.remove(victim);
      victim.evict('evicted: the peer never answered and the server is at its transfer limit');
    }
    const slot: TransferSlot = { address, answered: false, since: this.now(), evict };
    this.slots.add(slot);
    this.perAddress.set(address, mine + 1);
    return { ok: true, slot, release: () => this.remove(slot) };
  }

  private oldestUnanswered(): TransferSlot | undefined {
    const cutoff = this.now() - this.limits.evictUnansweredAfterMs;
    // Insertion order is age order: the first unanswered slot is the oldest.
    for (const s of this.slots) {
      if (s.since > cutoff) return undefined;
      if (!s.answered) return s;
    }
    return undefined;
  }

  private remove(slot: TransferSlot): void {
    if (!this.slots.delete(slot)) return;
    const left = (this.perAddress.get(slot.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(slot.address, left);
    else this.perAddress.delete(slot.address);
  }
}
