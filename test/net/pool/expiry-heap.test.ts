import { describe, expect, it } from 'vitest';
import { ExpiryHeap } from '../../../src/net/pool/expiry-heap.js';
import { FreeQueue } from '../../../src/net/pool/free-queue.js';

describe('ExpiryHeap', () => {
  it('pops keys in time order, only once due', () => {
    const h = new ExpiryHeap<string>();
    for (const [k, at] of [['c', 30], ['a', 10], ['d', 40], ['b', 20]] as const) h.schedule(k, at);
    expect(h.popDue(5)).toBeUndefined();
    const out: string[] = [];
    for (let k = h.popDue(35); k !== undefined; k = h.popDue(35)) out.push(k);
    expect(out).toEqual(['a', 'b', 'c']);
    expect(h.size).toBe(1);
  });

  it('keeps the earlier time when asked for a later one, and moves a key forward when asked for an earlier one', () => {
    const h = new ExpiryHeap<number>();
    h.schedule(1, 10);
    h.schedule(1, 50);
    expect(h.popDue(10)).toBe(1);
    h.schedule(2, 50);
    h.schedule(2, 20);
    expect(h.popDue(20)).toBe(2);
    expect(h.popDue(100)).toBeUndefined();
  });

  it('pops a key once however often it was moved earlier', () => {
    const h = new ExpiryHeap<number>();
    for (let i = 0; i < 10_000; i++) h.schedule(7, 1_000_000 - i);
    expect(h.size).toBe(1);
    expect(h.popDue(Number.MAX_SAFE_INTEGER)).toBe(7);
    expect(h.popDue(Number.MAX_SAFE_INTEGER)).toBeUndefined();
  });
});

describe('FreeQueue', () => {
  it('returns keys oldest first and queues each key at most once', () => {
    const q = new FreeQueue<number>();
    for (const k of [3, 1, 3, 2, 1]) q.push(k);
    expect(q.length).toBe(3);
    expect([q.shift(), q.shift(), q.shift(), q.shift()]).toEqual([3, 1, 2, undefined]);
    q.push(3);
    expect(q.shift()).toBe(3);
  });
});
