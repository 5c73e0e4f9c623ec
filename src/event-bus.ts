/**
 * One bus per run. Every component publishes typed events here; the CLI progress
 * printer, the JSON-lines log and the report are subscribers and never reach into
 * device internals. The bus keeps no history: a fleet of 10,000 emits ~600,000 events, and
 * whoever needs them (the tally, --events, a test) subscribes and keeps what it reads.
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

  subscribe(fn: Subscriber): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  emit(event: Omit<BusEvent, 'at'>): BusEvent {
    const full: BusEvent = { ...event, at: Math.round(performance.now() - this.started) };
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
