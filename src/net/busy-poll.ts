/**
 * Keeps the event loop polling instead of sleeping for a short while after a send that
 * expects a quick answer (a TFTP DATA block waiting for its ACK). With an immediate
 * pending, libuv polls its sockets with a zero timeout, so an answer is picked up without
 * the wake-up of a sleeping thread, which on a lock-step exchange is most of the round
 * trip. Linux's SO_BUSY_POLL makes the same trade: CPU for latency, only while traffic
 * is flowing. A window of 0 turns it off.
 */
export class BusyPoll {
  private readonly windowNs: bigint;
  private until = 0n;
  private spinning = false;

  /** `now` is injectable so tests decide when the window has passed, not the host's load. */
  constructor(
    windowUs: number,
    private readonly now: () => bigint = process.hrtime.bigint,
  ) {
    if (!(windowUs >= 0 && windowUs <= 100_000)) throw new RangeError(`busy-poll window must be 0..100000 µs, got ${windowUs}`);
    this.windowNs = BigInt(Math.round(windowUs * 1000));
  }

  /** An answer is expected soon: poll without sleeping until the window after now has passed. */
  kick(): void {
    if (this.windowNs === 0n) return;
    this.until = this.now() + this.windowNs;
    if (this.spinning) return;
    this.spinning = true;
    setImmediate(this.spin);
  }

  /** Polling without sleeping right now. */
  get active(): boolean {
    return this.spinning;
  }

  stop(): void {
    this.until = 0n;
  }

  private readonly spin = (): void => {
    if (this.now() < this.until) setImmediate(this.spin);
    else this.spinning = false;
  };
}
