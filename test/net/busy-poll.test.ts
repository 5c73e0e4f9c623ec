import { describe, expect, it } from 'vitest';
import { BusyPoll } from '../../src/net/busy-poll.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('BusyPoll', () => {
  it('keeps the loop polling for its window after a kick, then lets it sleep', async () => {
    const p = new BusyPoll(5_000);
    p.kick();
    expect(p.active).toBe(true);
    // Timers still run while it spins: it yields to the loop on every turn.
    await sleep(1);
    expect(p.active).toBe(true);
    await sleep(30);
    expect(p.active).toBe(false);
  });

  it('a kick while spinning extends the window; stop ends it at the next turn', async () => {
    const p = new BusyPoll(20_000);
    p.kick();
    await sleep(10);
    p.kick();
    await sleep(15);
    expect(p.active).toBe(true);
    p.stop();
    await sleep(1);
    expect(p.active).toBe(false);
  });

  it('is off with a window of 0 and refuses a window out of range', () => {
    const off = new BusyPoll(0);
    off.kick();
    expect(off.active).toBe(false);
    expect(() => new BusyPoll(-1)).toThrow(RangeError);
    expect(() => new BusyPoll(100_001)).toThrow(/0\.\.100000/);
  });
});
