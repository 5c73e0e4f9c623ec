import { describe, expect, it } from 'vitest';
import { ConnectionBudget } from '../../src/net/connection-budget.js';

describe('ConnectionBudget', () => {
  it('evicts the longest-idle connection when the total is full, and never a busy one', () => {
    const b = new ConnectionBudget<string>({ maxConnections: 3, maxPerClient: 3 });
    expect(b.admit('a', 'a1')).toEqual({ ok: true });
    expect(b.admit('b', 'b1')).toEqual({ ok: true });
    expect(b.admit('c', 'c1')).toEqual({ ok: true });
    b.busy('a1');
    expect(b.admit('d', 'd1')).toEqual({ ok: true, evicted: 'b1' });
    // a1 finished its request: now the newest idle one, so c1 goes first.
    b.done('a1');
    expect(b.admit('e', 'e1')).toEqual({ ok: true, evicted: 'c1' });
    for (const x of ['a1', 'd1', 'e1']) b.busy(x);
    expect(b.admit('f', 'f1')).toEqual({ ok: false, reason: 'max-connections' });
    expect(b.size).toBe(3);
  });

  it('makes a client past its cap give up its own oldest idle connection, or refuses it when all are busy', () => {
    const b = new ConnectionBudget<string>({ maxConnections: 10, maxPerClient: 2 });
    b.admit('x', 'x1');
    b.admit('y', 'y1');
    b.admit('x', 'x2');
    expect(b.admit('x', 'x3')).toEqual({ ok: true, evicted: 'x1' });
    b.busy('x2');
    b.busy('x3');
    expect(b.admit('x', 'x4')).toEqual({ ok: false, reason: 'max-per-client' });
    expect(b.admit('z', 'z1')).toEqual({ ok: true });
  });

  it('counts a connection out once, whether it closed or was evicted', () => {
    const b = new ConnectionBudget<string>({ maxConnections: 1, maxPerClient: 1 });
    b.admit('a', 'a1');
    expect(b.admit('b', 'b1')).toEqual({ ok: true, evicted: 'a1' });
    b.release('a1');
    b.release('a1');
    expect(b.size).toBe(1);
    b.release('b1');
    expect(b.size).toBe(0);
    expect(b.admit('a', 'a2')).toEqual({ ok: true });
  });

  it('rejects limits that are not positive integers', () => {
    expect(() => new ConnectionBudget({ maxConnections: 0, maxPerClient: 1 })).toThrow('maxConnections must be a positive integer, got 0');
  });
});
