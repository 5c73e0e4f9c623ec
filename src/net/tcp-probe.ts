import { connect } from 'node:net';
import { ScaledClock, type Clock } from '../clock.js';

/** Wall time, for callers outside a run. */
const WALL_CLOCK = new ScaledClock();

/**
 * ONIE's `nc -w 10 $server 80 -e /bin/true` before it tries the inexact HTTP names of a
 * server: true when a TCP connection opens within `timeoutMs`, false when it is refused,
 * unreachable or too slow. An abort rejects with the signal's reason. `timeoutMs` counts on
 * `clock` (a run's clock leaves a stalled event loop out; the wall by default).
 */
export function probeTcp(host: string, port: number, timeoutMs: number, signal?: AbortSignal, clock: Clock = WALL_CLOCK): Promise<boolean> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const socket = connect({ host, port });
    const finish = (result: boolean | { error: unknown }): void => {
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      if (typeof result === 'boolean') resolve(result);
      else reject(result.error);
    };
    const onAbort = (): void => finish({ error: signal?.reason });
    const timer = clock.setTimeout(() => finish(false), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
