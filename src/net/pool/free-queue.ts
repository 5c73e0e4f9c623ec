/**
 * Addresses that came free, oldest first, each queued at most once. An address may be
 * taken by other means (a client asking for it, a restored lease) while it waits; the
 * caller checks what `shift` returns and drops a busy one, which comes back through its
 * own expiry. So the queue never holds more entries than there are addresses.
 */
export class FreeQueue<K> {
  private items: K[] = [];
  private head = 0;
  private readonly queued = new Set<K>();

  get length(): number {
    return this.items.length - this.head;
  }

  push(key: K): void {
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.items.push(key);
  }

  shift(): K | undefined {
    if (this.head >= this.items.length) return undefined;
    const key = this.items[this.head++]!;
    this.queued.delete(key);
    // Drop the consumed front once it is half the array: O(1) amortised, memory bounded.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return key;
  }
}
