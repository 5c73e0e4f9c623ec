/**
 * One transfer's retransmission timer. Packets that make progress only move a deadline
 * (no timer is cleared and set per packet, which would cost more than the packet at
 * tens of thousands of blocks a second). Each silent period in a row waits longer,
 * up to four times the base; after `maxRetries` of them, or once the silence adds up to
 * `maxSilentMs`, the transfer is given up. The second bound matters when the peer chose a
 * long timeout (RFC 2349 allows 255 s): a peer that never answers is dropped in bounded time.
 */
export class RetransmitTimer {
  private timer: NodeJS.Timeout | undefined;
  private deadline = 0;
  private silent = 0;
  /** Time waited in the current run of silent periods. */
  private silentMs = 0;
  private wait = 0;
  private stopped = false;

  constructor(
    private readonly baseMs: number,
    private readonly maxRetries: number,
    private readonly onTimeout: () => void,
    /** Retransmissions made and the silence waited, for the reason a transfer reports. */
    private readonly onGiveUp: (retransmissions: number, silentMs: number) => void,
    private readonly maxSilentMs = Infinity,
  ) {}

  /** The peer answered: the silence count starts again. */
  progress(): void {
    this.silent = 0;
    this.silentMs = 0;
    this.restart();
  }

  /** Something new was sent: wait a full period from now. */
  restart(): void {
    if (this.stopped) return;
    const wait = Math.max(1, Math.min(this.baseMs * Math.min(2 ** this.silent, 4), this.maxSilentMs - this.silentMs));
    this.wait = wait;
    this.deadline = performance.now() + wait;
    this.timer ??= setTimeout(() => this.fire(), wait);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const left = this.deadline - performance.now();
    if (left > 1) {
      this.timer = setTimeout(() => this.fire(), left);
      return;
    }
    this.silentMs += this.wait;
    if (++this.silent > this.maxRetries || this.silentMs >= this.maxSilentMs) return this.onGiveUp(this.silent - 1, this.silentMs);
    this.restart();
    this.onTimeout();
  }
}
