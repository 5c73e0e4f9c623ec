import { connect } from 'node:net';
import type { Clock } from '../clock.js';

/**
 * ONIE's `nc -w 10 $server 80 -e /bin/true` before it tries the inexact HTTP names of a
 * server: true when a TCP connection opens within `timeoutMs`, false when it is refused,
 * unreachable or too slow. An abort rejects with the signal's reason. `timeoutMs` counts on
 * `clock` when given (a run's clock leaves a stalled event loop out), else on the wall.
 */
export function probeTcp(host: string, port: number, timeoutMs: number, signal?: AbortSignal, clock?: Clock): Promise<boolean> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const socket = connect({ host, port });
    const finish = (result: boolean | { error: unknown }): void => {
      if (clock) clock.clearTimeout(timer);
      else clearTimeout(timer as ReturnType<typeof setTimeout>);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      if (typeof result === 'boolean') resolve(result);
      else reject(result.error);
    };
    const onAbort = (): void => finish({ error: signal?.reason });
    const timer: unknown = clock ? clock.setTimeout(() => finish(false), timeoutMs) : setTimeout(() => finish(false), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
