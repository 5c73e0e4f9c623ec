import { connect } from 'node:net';

/**
 * ONIE's `nc -w 10 $server 80 -e /bin/true` before it tries the inexact HTTP names of a
 * server: true when a TCP connection opens within `timeoutMs`, false when it is refused,
 * unreachable or too slow. An abort rejects with the signal's reason.
 */
export function probeTcp(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const socket = connect({ host, port });
    const finish = (result: boolean | { error: unknown }): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      if (typeof result === 'boolean') resolve(result);
      else reject(result.error);
    };
    const onAbort = (): void => finish({ error: signal?.reason });
    const timer = setTimeout(() => finish(false), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
