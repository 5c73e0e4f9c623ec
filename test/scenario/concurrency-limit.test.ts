import { describe, expect, it } from 'vitest';
import { concurrencyLimit } from '../../src/scenario/concurrency-limit.js';

describe('concurrencyLimit', () => {
  it('runs at most the limit at once and starts the waiting tasks in arrival order', async () => {
    const admit = concurrencyLimit(3);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const gates: Array<() => void> = [];
    const tasks = Array.from({ length: 10 }, (_, i) =>
      admit(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
        return i * 2;
      }),
    );
    // Release one task at a time; each release lets exactly one waiting task start.
    for (let round = 0; round < 10; round++) {
      await new Promise((r) => setImmediate(r));
      expect(running).toBeLessThanOrEqual(3);
      gates.shift()?.();
    }
    expect(await Promise.all(tasks)).toEqual(Array.from({ length: 10 }, (_, i) => i * 2));
    expect(peak).toBe(3);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('frees the slot of a task that throws', async () => {
    const admit = concurrencyLimit(1);
    await expect(admit(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await admit(async () => 'next')).toBe('next');
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => concurrencyLimit(0)).toThrow(RangeError);
    expect(() => concurrencyLimit(1.5)).toThrow(RangeError);
  });
});
