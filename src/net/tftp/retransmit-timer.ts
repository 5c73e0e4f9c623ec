/**
 * One transfer's retransmission timer. Packets that make progress only move a deadline
 * (no timer is cleared and set per packet, which would cost more than the packet at
 * tens of thousands of blocks a second). Each silent period in a row waits longer,
 * up to four times the base; after `maxRetries` of them the transfer is given up.
 */
export class RetransmitTimer {
  private timer: NodeJS.Timeout | undefined;
  private deadline = 0;
  private silent = 0;
  private stopped = false;

  constructor(
    private readonly baseMs: number,
    private readonly maxRetries: number,
    private readonly onTimeout: () => void,
    private readonly onGiveUp: () => void,
  ) {}

  /** The peer answered: the silence count starts again. */
  progress(): void {
    this.silent = 0;
    this.restart();
  }

  /** Something new was sent: wait a full period from now. */
  restart(): void {
    if (this.stopped) return;
    const wait = this.wait();
    this.deadline = performance.now() + wait;
    this.timer ??= setTimeout(() => this.fire(), wait);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wait(): number {
    return this.baseMs * Math.min(2 ** this.silent, 4);
  }

  private fire(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const left = this.deadline - performance.now();
    if (left > 1) {
      this.timer = setTimeout(() => this.fire(), left);
      return;
    }
    if (++this.silent > this.maxRetries) return this.onGiveUp();
    this.restart();
    this.onTimeout();
  }
}
