/**
 * One bus per run. Every component publishes typed events here; the CLI progress
 * printer, the JSON-lines log and the report are subscribers and never reach into
 * device internals.
 */
export interface BusEvent {
  /** Dotted name: `dhcp.leased`, `image.rejected`, `device.state`... */
  type: string;
  /** Milliseconds since the run started. */
  at: number;
  /** Device id, when the event belongs to one device. */
  device?: string;
  /** Human-readable one-liner for progress output. */
  message: string;
  /** Structured details for machine consumers (JSON-safe). */
  data?: Record<string, unknown>;
}

export type Subscriber = (event: BusEvent) => void;

export class EventBus {
  private readonly subscribers = new Set<Subscriber>();
  private readonly started = performance.now();
  /** Every event so far (a run's report reads it); a long-running `serve` keeps none. */
  readonly history: BusEvent[] = [];
  private readonly keepHistory: boolean;

  constructor(opts: { history?: boolean } = {}) {
    this.keepHistory = opts.history ?? true;
  }

  subscribe(fn: Subscriber): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  emit(event: Omit<BusEvent, 'at'>): BusEvent {
    const full: BusEvent = { ...event, at: Math.round(performance.now() - this.started) };
    if (this.keepHistory) this.history.push(full);
    for (const fn of this.subscribers) {
      try {
        fn(full);
      } catch {
        // A broken subscriber must not break the run that feeds it.
      }
    }
    return full;
  }
}
