/**
 * When each key next needs a look: a min-heap of (time, key) with at most one live entry
 * per key. Asking for a later time than the one already pending changes nothing (the
 * owner re-checks the key when it comes due and asks again), so renewing a lease costs
 * no heap work; asking for an earlier one leaves the old entry behind as stale, skipped
 * when popped and dropped in a rebuild once stale entries outnumber live ones.
 */
export class ExpiryHeap<K> {
  private times: number[] = [];
  private keys: K[] = [];
  private readonly pending = new Map<K, number>();

  get size(): number {
    return this.pending.size;
  }

  /** Make sure `key` comes due no later than `at`. */
  schedule(key: K, at: number): void {
    const current = this.pending.get(key);
    if (current !== undefined && current <= at) return;
    this.pending.set(key, at);
    this.push(at, key);
    if (this.times.length > 2 * this.pending.size + 1024) this.rebuild();
  }

  /** The next key due at `now` or earlier, removed from the heap; undefined when none is due. */
  popDue(now: number): K | undefined {
    while (this.times.length > 0 && this.times[0]! <= now) {
      const at = this.times[0]!;
      const key = this.keys[0]!;
      this.popTop();
      if (this.pending.get(key) !== at) continue; // stale: rescheduled earlier since
      this.pending.delete(key);
      return key;
    }
    return undefined;
  }

  private push(at: number, key: K): void {
    const t = this.times;
    const k = this.keys;
    let i = t.length;
    t.push(at);
    k.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (t[parent]! <= at) break;
      t[i] = t[parent]!;
      k[i] = k[parent]!;
      i = parent;
    }
    t[i] = at;
    k[i] = key;
  }

  private popTop(): void {
    const t = this.times;
    const k = this.keys;
    const lastAt = t.pop()!;
    const lastKey = k.pop()!;
    if (t.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= t.length) break;
      const r = l + 1;
      const c = r < t.length && t[r]! < t[l]! ? r : l;
      if (t[c]! >= lastAt) break;
      t[i] = t[c]!;
      k[i] = k[c]!;
      i = c;
    }
    t[i] = lastAt;
    k[i] = lastKey;
  }

  private rebuild(): void {
    this.times = [];
    this.keys = [];
    for (const [key, at] of this.pending) this.push(at, key);
  }
}
