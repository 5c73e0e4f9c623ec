/** Devices booting at once unless the scenario or `--concurrency` says otherwise: on 2 cores 1,000 pass fastest near 128 (32 took a third longer, 256 no less time). */
export const DEFAULT_POWER_ON_CONCURRENCY = 128;
/** The largest `powerOn.concurrency` / `--concurrency` accepted. */
export const MAX_POWER_ON_CONCURRENCY = 100_000;

/**
 * At most `limit` tasks run at once; the rest wait in arrival order. The queue holds one
 * small closure per waiting task, so it is bounded by the fleet the caller admits.
 */
export function concurrencyLimit(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    running--;
    waiting.shift()?.();
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      release();
    }
  };
}
