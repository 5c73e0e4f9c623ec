import { describe, expect, it, vi } from 'vitest';
import { RunClock } from '../src/run-clock.js';

const block = (ms: number): void => {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // the event loop is stuck, as under a saturated host
  }
};

describe('RunClock', () => {
  it('leaves a stalled event loop out of its timers: a 100 ms timer still has ~100 ms after a 300 ms stall', async () => {
    const clock = new RunClock();
    try {
      await new Promise((r) => setTimeout(r, 50));
      const t0 = performance.now();
      const fired = new Promise<number>((resolve) => clock.setTimeout(() => resolve(performance.now() - t0), 100));
      const wall = new Promise<number>((resolve) => setTimeout(() => resolve(performance.now() - t0), 100));
      block(300);
      const [run, plain] = await Promise.all([fired, wall]);
      // A plain timer fires as soon as the stall ends; the run clock's gets its 100 ms
      // (less at most a tick and the slack it cannot see).
      expect(plain).toBeLessThan(run);
      expect(run).toBeGreaterThanOrEqual(300 + 100 - 35);
      expect(clock.stalledMs).toBeGreaterThanOrEqual(250);
    } finally {
      clock.stop();
    }
  });

  it('runs timers at their time on an idle loop, sped up by speed, and clears them', async () => {
    const clock = new RunClock(10);
    try {
      const t0 = performance.now();
      let cleared = false;
      const id = clock.setTimeout(() => (cleared = true), 50);
      clock.clearTimeout(id);
      const at = await new Promise<number>((resolve) => clock.setTimeout(() => resolve(performance.now() - t0), 500));
      expect(at).toBeGreaterThanOrEqual(49);
      await new Promise((r) => setTimeout(r, 20));
      expect(cleared).toBe(false);
      // Run time never runs ahead of the wall.
      expect(clock.now()).toBeLessThanOrEqual(performance.now());
      expect(() => new RunClock(0)).toThrow('clock speed must be a positive number');
    } finally {
      clock.stop();
    }
  });

  it('holds a wait longer than a Node timer can (2^31-1 ms) without firing early or re-arming in a loop', async () => {
    const clock = new RunClock(1e-3);
    const armed: number[] = [];
    const real = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      armed.push(ms ?? 0);
      return real(fn, ms);
    }) as typeof setTimeout);
    let fired = false;
    try {
      const handle = clock.setTimeout(() => (fired = true), 3_000_000); // 3e9 ms of wall time at speed 1/1000
      await new Promise((r) => real(r, 60));
      clock.clearTimeout(handle);
    } finally {
      spy.mockRestore();
      clock.stop();
    }
    expect(fired).toBe(false);
    // One timer at the longest wait Node holds; an overflowing one fires after 1 ms and is set again, over and over.
    expect(armed).toEqual([2 ** 31 - 1]);
  });

  it('fires a timer that was still set when the clock stopped, once its time has passed', async () => {
    const clock = new RunClock(1);
    const fired = new Promise<number>((resolve) => {
      const t0 = performance.now();
      clock.setTimeout(() => resolve(performance.now() - t0), 80);
    });
    clock.stop();
    // A stopped clock once froze (no ticker to sample the loop), and its timers re-armed for good.
    const at = await Promise.race([fired, new Promise<string>((r) => setTimeout(() => r('never fired'), 2000))]);
    expect(at).toBeTypeOf('number');
    expect(at as number).toBeGreaterThanOrEqual(79);
  });
});
