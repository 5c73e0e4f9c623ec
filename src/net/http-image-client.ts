import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { Agent, request, type Dispatcher } from 'undici';
import type { Clock } from '../clock.js';
import { BootlabError, PeerError, TimeoutError } from '../errors.js';
import { idleWatchdog } from './idle-watchdog.js';

export interface DownloadOptions {
  headers: Record<string, string>;
  /** File written while streaming; deleted again when the download fails. */
  to: string;
  /** Called for every body chunk, in order, exactly once (e.g. a hasher: no second pass). */
  onChunk?: (chunk: Uint8Array) => void;
  signal?: AbortSignal;
  /** Per network operation (connect, headers, each body read), like busybox `wget -T 3`. */
  timeoutMs?: number;
  maxBytes?: number;
  /** Use this dispatcher instead of a private per-call Agent; the caller owns (and closes) it. */
  dispatcher?: Dispatcher | undefined;
  /**
   * Count `timeoutMs` on this clock (a run's clock, which leaves out a stalled event loop)
   * instead of undici's wall-clock timers: the request fails when no byte (nor the
   * connection, nor the headers) arrived for that long.
   */
  clock?: Clock;
}

/** ONIE runs `wget -T 3`. */
const DEFAULT_TIMEOUT_MS = 3000;

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
]);

/**
 * One device's HTTP connections: kept alive across its waterfall (a dozen names a pass, most
 * of them 404s), so a fleet does not open a TCP connection per request. It has no timers of
 * its own: pair it with `clock` in downloadImage, whose watchdog stands for wget's -T. The
 * caller destroys it when the device is done.
 */
export function deviceHttpAgent(): Dispatcher {
  return new Agent({ connect: { timeout: 0 }, headersTimeout: 0, bodyTimeout: 0, connections: 2 });
}

/**
 * Fetches an installer the way ONIE's busybox wget does: plain http:// only (busybox is
 * built without TLS, so https:// fails on a real switch too), a GET with the given
 * headers, the body streamed to `to` and handed to `onChunk` on the way.
 */
export async function downloadImage(url: string, opts: DownloadOptions): Promise<{ status: number; bytes: number }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PeerError('BL_HTTP_URL', `not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:') {
    throw new PeerError('BL_HTTP_SCHEME', `${url}: only http:// is supported (ONIE's busybox wget has no TLS)`);
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new RangeError(`downloadImage: timeoutMs must be positive, got ${timeoutMs}`);
  const ownAgent = opts.dispatcher
    ? undefined
    : // Keep-alive (undici's default), though the agent lives for one request: with keep-alive
      // off undici asks the server to close, and a FIN that arrives while the body is paused
      // under backpressure (a disk slower than loopback) trips an uncatchable assertion in
      // undici 7 (nodejs/undici#5360, fixed only in 8, which needs Node 22).
      new Agent(opts.clock ? { connect: { timeout: 0 }, headersTimeout: 0, bodyTimeout: 0 } : { connect: { timeout: timeoutMs }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const dispatcher = opts.dispatcher ?? ownAgent!;
  // With a clock, one watchdog on it stands for wget's -T: it aborts the request when idle.
  const idle = opts.clock ? new AbortController() : undefined;
  const onAbort = (): void => idle?.abort(opts.signal?.reason);
  if (idle && opts.signal) {
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  }
  const watchdog = idle && opts.clock ? idleWatchdog(opts.clock, timeoutMs, () => idle.abort(new TimeoutError(`GET ${url}`, timeoutMs))) : undefined;
  const signal = idle?.signal ?? opts.signal;
  let fileOpened = false;
  try {
    const res = await request(parsed, {
      method: 'GET',
      headers: opts.headers,
      dispatcher,
      ...(signal ? { signal } : {}),
    });
    watchdog?.touch();
    if (res.statusCode < 200 || res.statusCode > 299) {
      discard(res.body);
      throw new PeerError('BL_HTTP_STATUS', `GET ${url}: HTTP ${res.statusCode}`);
    }
    const declared = Number(res.headers['content-length']);
    if (opts.maxBytes !== undefined && Number.isFinite(declared) && declared > opts.maxBytes) {
      discard(res.body);
      throw tooLarge(url, opts.maxBytes, `Content-Length ${declared}`);
    }
    let bytes = 0;
    const { onChunk, maxBytes } = opts;
    fileOpened = true;
    await pipeline(
      res.body,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          watchdog?.touch();
          bytes += chunk.length;
          if (maxBytes !== undefined && bytes > maxBytes) throw tooLarge(url, maxBytes, `more than ${maxBytes} bytes received`);
          onChunk?.(chunk);
          yield chunk;
        }
      },
      createWriteStream(opts.to, { highWaterMark: 1 << 20 }),
    );
    return { status: res.statusCode, bytes };
  } catch (e) {
    // wget -O leaves a partial file behind; ONIE deletes it, and so do we.
    if (fileOpened) await rm(opts.to, { force: true });
    if (idle?.signal.aborted && idle.signal.reason instanceof TimeoutError) throw idle.signal.reason;
    throw classify(e, url, timeoutMs, opts.signal);
  } finally {
    watchdog?.stop();
    opts.signal?.removeEventListener('abort', onAbort);
    // A private agent must not keep sockets (and the process) alive after the call.
    await ownAgent?.destroy();
  }
}

/** Drops a body we will not read; undici reports the destroy as an error nobody needs. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

function tooLarge(url: string, maxBytes: number, detail: string): PeerError {
  return new PeerError('BL_HTTP_TOO_LARGE', `GET ${url}: larger than the ${maxBytes}-byte limit (${detail})`);
}

function classify(e: unknown, url: string, timeoutMs: number, signal: AbortSignal | undefined): unknown {
  if (e instanceof BootlabError) return e;
  if (signal?.aborted) return signal.reason;
  const code = errorCode(e);
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new TimeoutError(`GET ${url}`, timeoutMs);
  if (code !== undefined && CONNECT_CODES.has(code)) {
    return new PeerError('BL_HTTP_CONNECT', `GET ${url}: ${code}: ${(e as Error).message}`, { cause: e });
  }
  return e;
}

function errorCode(e: unknown): string | undefined {
  for (let cur = e, depth = 0; cur && typeof cur === 'object' && depth < 4; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && (TIMEOUT_CODES.has(code) || CONNECT_CODES.has(code))) return code;
  }
  return undefined;
}
