import { describe, expect, it } from 'vitest';
import { BusyPoll } from '../../src/net/busy-poll.js';

/** One turn of the event loop: the poller re-checks its window on every turn. */
const turn = () => new Promise<void>((r) => setImmediate(r));
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await turn();
};

/** A clock the test moves, so a busy host cannot make a window pass early or late. */
function fakeClock() {
  let ns = 1_000_000n;
  return { now: () => ns, advanceUs: (us: number) => void (ns += BigInt(us) * 1000n) };
}

describe('BusyPoll', () => {
  it('keeps the loop polling for its window after a kick, then lets it sleep', async () => {
    const clock = fakeClock();
    const p = new BusyPoll(5_000, clock.now);
    p.kick();
    expect(p.active).toBe(true);
    // Timers and I/O still run while it spins: it yields to the loop on every turn.
    await new Promise((r) => setTimeout(r, 1));
    clock.advanceUs(4_999);
    await turns(3);
    expect(p.active).toBe(true);
    clock.advanceUs(1);
    await turns(3);
    expect(p.active).toBe(false);
  });

  it('a kick while spinning extends the window; stop ends it at the next turn', async () => {
    const clock = fakeClock();
    const p = new BusyPoll(20_000, clock.now);
    p.kick();
    clock.advanceUs(10_000);
    await turns(2);
    p.kick();
    clock.advanceUs(15_000); // 25 ms after the first kick, 15 ms after the second
    await turns(3);
    expect(p.active).toBe(true);
    p.stop();
    await turns(3);
    expect(p.active).toBe(false);
  });

  it('follows the host clock by default', async () => {
    const p = new BusyPoll(1_000);
    p.kick();
    expect(p.active).toBe(true);
    const deadline = Date.now() + 5_000;
    while (p.active && Date.now() < deadline) await turn();
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
