import type { Clock } from '../clock.js';
import type { OutageWindow } from './faults-schema.js';

/**
 * Sets a service's outage windows on the run's clock: `down` at each window's start (at
 * once for one that starts at 0), `up` at its end. Returns what cancels the timers left.
 */
export function scheduleOutages(windows: readonly OutageWindow[], clock: Clock, on: { down: (w: OutageWindow) => void; up: (w: OutageWindow) => void }): () => void {
  const timers: unknown[] = [];
  for (const w of windows) {
    if (w.from === 0) on.down(w);
    else timers.push(clock.setTimeout(() => on.down(w), w.from));
    timers.push(clock.setTimeout(() => on.up(w), w.from + w.for));
  }
  return () => {
    for (const t of timers) clock.clearTimeout(t);
  };
}
