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
  /**
   * Trust anchors (PEM) for https:// URLs: the server's certificate must chain to one of
   * these, the system's CAs are not consulted. Without them https:// is refused, as
   * ONIE's busybox wget (built without TLS) refuses it. With `dispatcher`, make it with
   * deviceHttpAgent({ ca }) and the same anchors.
   */
  ca?: readonly string[] | undefined;
}

/** ONIE runs `wget -T 3`. */
const DEFAULT_TIMEOUT_MS = 3000;

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
/** What node's TLS reports when the server's certificate does not check out, or TLS itself fails. */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);
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
export function deviceHttpAgent(opts: { ca?: readonly string[] } = {}): Dispatcher {
  return new Agent({ connect: { timeout: 0, ...tlsTrust(opts.ca) }, headersTimeout: 0, bodyTimeout: 0, connections: 2 });
}

/** undici's connect options that check a server certificate against exactly `ca`. */
function tlsTrust(ca: readonly string[] | undefined): { ca?: string[] } {
  return ca ? { ca: [...ca] } : {};
}

/**
 * Fetches an installer the way ONIE's busybox wget does: plain http:// (busybox is built
 * without TLS, so https:// fails on a real switch too) unless the device was given trust
 * anchors for https:// (`ca`), a GET with the given headers, the body streamed to `to`
 * and handed to `onChunk` on the way.
 */
export async function downloadImage(url: string, opts: DownloadOptions): Promise<{ status: number; bytes: number }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PeerError('BL_HTTP_URL', `not a URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol === 'https:' && !opts.ca) {
    throw new PeerError('BL_HTTP_SCHEME', `${url}: https:// needs trust anchors for the server's certificate (ONIE's busybox wget has no TLS)`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new PeerError('BL_HTTP_SCHEME', `${url}: only http:// and https:// are supported`);
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new RangeError(`downloadImage: timeoutMs must be positive, got ${timeoutMs}`);
  const ownAgent = opts.dispatcher
    ? undefined
    : // Keep-alive (undici's default), though the agent lives for one request: with keep-alive
      // off undici asks the server to close, and a FIN that arrives while the body is paused
      // under backpressure (a disk slower than loopback) trips an uncatchable assertion in
      // undici 7 (nodejs/undici#5360, fixed only in 8, which needs Node 22).
      new Agent(
        opts.clock
          ? { connect: { timeout: 0, ...tlsTrust(opts.ca) }, headersTimeout: 0, bodyTimeout: 0 }
          : { connect: { timeout: timeoutMs, ...tlsTrust(opts.ca) }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs },
      );
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
  const coded = codedError(e);
  const code = coded?.code;
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new TimeoutError(`GET ${url}`, timeoutMs);
  if (code !== undefined && TLS_CODES.has(code)) {
    return new PeerError('BL_HTTP_TLS', `GET ${url}: the server's certificate is not trusted, or TLS failed (${code}: ${coded!.message})`, { cause: e });
  }
  if (code !== undefined && CONNECT_CODES.has(code)) {
    return new PeerError('BL_HTTP_CONNECT', `GET ${url}: ${code}: ${(e as Error).message}`, { cause: e });
  }
  return e;
}

/** The error (or one of its causes) whose code we know, with that code and its own message. */
function codedError(e: unknown): { code: string; message: string } | undefined {
  for (let cur = e, depth = 0; cur && typeof cur === 'object' && depth < 4; cur = (cur as { cause?: unknown }).cause, depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && (TIMEOUT_CODES.has(code) || CONNECT_CODES.has(code) || TLS_CODES.has(code))) {
      return { code, message: String((cur as { message?: unknown }).message ?? '') };
    }
  }
  return undefined;
}
