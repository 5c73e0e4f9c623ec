import type { Clock } from './clock.js';

/** How often the run clock looks at the event loop. */
const TICK_MS = 20;
/** The longest wait Node's setTimeout holds. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** Lateness below this is ordinary scheduling noise, not a stall. */
const SLACK_MS = 10;

/**
 * A run's clock: wall time sped up by `speed`, minus the time the event loop was stalled.
 *
 * A real switch's wget counts 3 s on a CPU that does nothing else; a thousand simulated
 * switches share two cores, and when the host is saturated a timer that should have let a
 * download finish fires first. So the clock watches the loop (a timer every TICK_MS: how
 * late it runs is how long the loop was stuck) and leaves that time out: a timer that
 * comes due only because the host was busy is set again for the rest of its time. A
 * device fails on a timeout only when its peer was really that slow.
 */
export class RunClock implements Clock {
  private stalled = 0;
  private expected: number;
  private stopped = false;
  private readonly ticker: ReturnType<typeof setInterval>;

  constructor(
    readonly speed = 1,
    private readonly wallNow: () => number = () => performance.now(),
  ) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`clock speed must be a positive number, got ${speed}`);
    this.expected = this.wallNow() + TICK_MS;
    this.ticker = setInterval(() => this.sample(), TICK_MS);
    // The clock never keeps a process alive on its own.
    this.ticker.unref();
  }

  /** Milliseconds of run time (wall time without stalls, not yet sped up). */
  now(): number {
    const wall = this.wallNow();
    // A ticker that is overdue right now means the loop is coming out of a stall the
    // ticker has not counted yet (a timer of ours may run before it in the same phase).
    // Once stopped nobody samples: the ticker's lateness would grow forever and freeze the
    // clock, and every timer still set would re-arm itself for good.
    const late = this.stopped ? 0 : wall - this.expected;
    return wall - this.stalled - (late > SLACK_MS ? late : 0);
  }

  /** Time left out so far because the event loop was stuck. */
  get stalledMs(): number {
    return this.stalled;
  }

  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown {
    const handle: { timer?: ReturnType<typeof setTimeout> } = {};
    const due = this.now() + ms / this.speed;
    const arm = (wait: number): void => {
      // Node fires a timer of more than 2^31-1 ms at once; a shorter one is set again for the rest.
      handle.timer = setTimeout(() => {
        const left = due - this.now();
        // Still run time to go: the wait was spent in a stall.
        if (left > 1) arm(left);
        else fn();
      }, Math.min(wait, MAX_TIMEOUT_MS));
    };
    arm(ms / this.speed);
    return handle;
  }

  clearTimeout(id: unknown): void {
    const handle = id as { timer?: ReturnType<typeof setTimeout> } | undefined;
    if (handle?.timer !== undefined) clearTimeout(handle.timer);
  }

  /** Stops watching the loop; timers already set still fire. */
  stop(): void {
    clearInterval(this.ticker);
    this.stopped = true;
  }

  /** Called by the ticker: how late it runs beyond the slack is stall time. */
  private sample(): void {
    const now = this.wallNow();
    const late = now - this.expected;
    if (late > SLACK_MS) this.stalled += late;
    this.expected = now + TICK_MS;
  }
}
