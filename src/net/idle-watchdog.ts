import type { Clock } from '../clock.js';

export interface IdleWatchdog {
  /** Something arrived: the idle time starts again. */
  touch(): void;
  stop(): void;
}

/**
 * Calls `onIdle` once nothing touched it for `ms` of the clock (at most 1.5 × ms). It
 * looks every ms/2 rather than re-arming a timer per touch, so a download of 100,000
 * chunks sets a few timers, not 100,000.
 */
export function idleWatchdog(clock: Clock, ms: number, onIdle: () => void): IdleWatchdog {
  let touched = false;
  let idleChecks = 0;
  let id: unknown;
  let stopped = false;
  const check = (): void => {
    if (stopped) return;
    if (touched) {
      touched = false;
      idleChecks = 0;
    } else if (++idleChecks >= 2) {
      stopped = true;
      onIdle();
      return;
    }
    id = clock.setTimeout(check, ms / 2);
  };
  id = clock.setTimeout(check, ms / 2);
  return {
    touch: () => void (touched = true),
    stop: () => {
      stopped = true;
      clock.clearTimeout(id);
    },
  };
}
