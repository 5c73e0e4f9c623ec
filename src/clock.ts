/**
 * The run's clock. Its shape is the one xstate's `createActor(machine, { clock })` takes,
 * so one clock drives machines, clients and servers alike. Tests use xstate's
 * SimulatedClock; a real run uses a wall clock, optionally sped up.
 */
export interface Clock {
  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

/** Wall-clock time divided by `speed` (speed 10: ONIE's 20 s pause takes 2 s). */
export class ScaledClock implements Clock {
  constructor(readonly speed = 1) {
    if (!(speed > 0) || !Number.isFinite(speed)) throw new RangeError(`clock speed must be a positive number, got ${speed}`);
  }

  setTimeout(fn: (...args: unknown[]) => void, ms: number): unknown {
    return globalThis.setTimeout(fn, ms / this.speed);
  }

  clearTimeout(id: unknown): void {
    globalThis.clearTimeout(id as ReturnType<typeof globalThis.setTimeout>);
  }
}

/** Resolves after `ms` of the given clock; rejects with the signal's reason if aborted first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const id = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clock.clearTimeout(id);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
