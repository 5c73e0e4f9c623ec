/**
 * Paced sending for the attackers: `send(i)` is called at `rate` per second until `count`
 * calls or `durationMs` have passed, whichever comes first. A tick that runs late sends at
 * most a tenth of a second's worth, so a stalled event loop does not turn into one burst.
 */
export async function paced(rate: number, count: number, durationMs: number, send: (i: number) => void): Promise<number> {
  const TICK_MS = 10;
  const start = performance.now();
  let sent = 0;
  const burst = Math.max(1, Math.ceil(rate / 10));
  while (sent < count) {
    const elapsed = performance.now() - start;
    if (elapsed >= durationMs) break;
    const due = Math.min(count, Math.floor((elapsed / 1000) * rate) + 1);
    for (let n = 0; sent < due && n < burst; n++) send(sent++);
    await sleep(TICK_MS);
  }
  return sent;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when `ms` have passed since `start` (performance.now()). */
export const until = (start: number, ms: number): Promise<void> => sleep(Math.max(0, start + ms - performance.now()));
