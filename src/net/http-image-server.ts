import type { ReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { isIPv6 } from 'node:net';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import send from 'send';
import { ConnectionBudget } from './connection-budget.js';
import { resolveHttpLimits, type HttpLimits } from './http-limits.js';

type HttpServer = Server | HttpsServer;

export interface HttpRequestEvent {
  type: 'http.request';
  method: string;
  /** The request target exactly as the client sent it (before decoding). */
  path: string;
  status: number;
  /** Body bytes written to the socket (0 for HEAD and errors without a body). */
  bytes: number;
  /** `address:port` of the client. */
  remote: string;
  userAgent?: string;
  /** Every ONIE-* request header, names as sent. */
  onieHeaders: Record<string, string>;
}

export interface HttpConnectionEvent {
  /** `http.refused`: turned away on arrival (503). `http.dropped`: closed by the server before its peer was done. */
  type: 'http.refused' | 'http.dropped';
  reason: 'max-connections' | 'max-per-client' | 'evicted' | 'idle' | 'headers-timeout' | 'response-time' | 'bad-request' | 'tls' | 'accept';
  /** `address:port` of the peer (empty when accept itself failed). */
  remote: string;
  detail: string;
}

export interface HttpImageServerConfig {
  /** Directory whose files are served; nothing outside it is ever read. */
  root: string;
  bind: { address: string; port: number };
  /** Budgets against hostile or broken peers (DEFAULT_HTTP_LIMITS for those left out). */
  limits?: Partial<HttpLimits>;
  /** Serve HTTPS with this PEM certificate (chain) and key instead of plain HTTP. */
  tls?: { cert: string; key: string };
}

export interface HttpImageServerDeps {
  onEvent?: (e: HttpRequestEvent) => void;
  /** Connections refused or dropped by the budgets: what a flood looks like from the server. */
  onConnectionEvent?: (e: HttpConnectionEvent) => void;
}

export interface HttpServerStats {
  /** Connections open now (refused ones never count). */
  open: number;
  refused: number;
  dropped: number;
}

type Resolved = { kind: 'file'; file: string; size: number } | { kind: 'refused'; status: 400 | 403 | 404 };

/** What node's parser and timers report in `clientError`, as the status the peer is told. */
const CLIENT_ERROR_STATUS: Record<string, number> = { ERR_HTTP_REQUEST_TIMEOUT: 408, HPE_HEADER_OVERFLOW: 431 };
const STATUS_LINE: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 503: 'Service Unavailable' };

/**
 * The image server ONIE's busybox wget talks to: HTTP/1.1 (or HTTPS), GET and HEAD of files
 * under one root, single byte ranges for resumed downloads. Every request becomes one
 * `http.request` event carrying the ONIE-* headers, so a scenario can check what a device
 * announced about itself. Every socket is bounded in number, per address and in time, so
 * peers that connect and say nothing, or stop reading, cannot starve the devices.
 */
export class HttpImageServer {
  private server: HttpServer | undefined;
  private suspended = false;
  private boundPort = 0;
  private realRoot: string | undefined;
  private readonly limits: HttpLimits;
  private readonly budget: ConnectionBudget<Socket>;
  /** Every raw socket by `address:port`: how a request (on a TLS socket) finds its connection. */
  private readonly sockets = new Map<string, Socket>();
  private readonly counts = { refused: 0, dropped: 0 };

  constructor(
    private readonly config: HttpImageServerConfig,
    private readonly deps: HttpImageServerDeps = {},
  ) {
    if (!config.root) throw new TypeError('HttpImageServer: config.root is required');
    if (!Number.isInteger(config.bind.port) || config.bind.port < 0 || config.bind.port > 65535) {
      throw new RangeError(`HttpImageServer: bind.port must be 0..65535, got ${config.bind.port}`);
    }
    if (config.tls && (!config.tls.cert || !config.tls.key)) throw new TypeError('HttpImageServer: tls needs both cert and key');
    this.limits = resolveHttpLimits(config.limits);
    this.budget = new ConnectionBudget(this.limits);
  }

  get stats(): HttpServerStats {
    return { open: this.sockets.size, ...this.counts };
  }

  async start(): Promise<{ address: string; port: number }> {
    if (this.server) throw new Error('HttpImageServer: already started');
    this.realRoot = await realpath(this.config.root);
    const l = this.limits;
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      this.track(req, res);
      this.handle(req, res).catch(() => {
        // Anything unexpected ends this one response; the server keeps serving.
        if (!res.headersSent) this.reply(req, res, 500);
        else res.destroy();
      });
    };
    const options = {
      // A GET has no body: the whole request is its headers.
      headersTimeout: l.headersTimeoutMs,
      requestTimeout: l.headersTimeoutMs,
      // Node checks those two on this period (30 s by default, which would stretch them).
      connectionsCheckingInterval: Math.min(1000, Math.max(10, Math.floor(l.headersTimeoutMs / 4))),
    };
    const server: HttpServer = this.config.tls
      ? createHttpsServer({ ...options, cert: this.config.tls.cert, key: this.config.tls.key, handshakeTimeout: l.headersTimeoutMs }, onRequest)
      : createServer(options, onRequest);
    // Idle: no byte read or written for this long, between requests or in the middle of one.
    server.timeout = l.idleTimeoutMs;
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('timeout', (socket: Duplex) => {
      const raw = this.rawOf(socket);
      // Keep-alive expiring between requests is the normal end of a connection, not news.
      if (raw && this.budget.isBusy(raw)) this.drop(raw, 'idle', `no byte moved for ${l.idleTimeoutMs} ms`);
      socket.destroy();
    });
    // A request node's parser rejects (or that timed out) gets one short reply, then the socket goes.
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      const code = error.code ?? '';
      // The peer went away (or a response is under way): nothing to tell it, nothing to count.
      if (code === 'ECONNRESET' || !socket.writable || (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage?.headersSent) {
        socket.destroy();
        return;
      }
      const raw = this.rawOf(socket);
      const status = CLIENT_ERROR_STATUS[code] ?? 400;
      if (raw) this.drop(raw, status === 408 ? 'headers-timeout' : 'bad-request', code || error.message);
      this.closeAfter(socket, `HTTP/1.1 ${status} ${STATUS_LINE[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
    server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
      const raw = this.rawOf(socket);
      if (raw) this.drop(raw, 'tls', error.code ?? error.message);
      socket.destroy();
    });
    this.server = server;
    await listenOn(server, this.config.bind.address, this.config.bind.port);
    // After listen, an error is an accept that failed (EMFILE at the file limit): counted, never fatal.
    server.on('error', (e: NodeJS.ErrnoException) => this.connectionEvent({ type: 'http.dropped', reason: 'accept', remote: '', detail: e.code ?? e.message }));
    const addr = server.address() as AddressInfo;
    this.boundPort = addr.port;
    return { address: addr.address, port: addr.port };
  }

  /**
   * Fault: the server goes away until resume(): the listener closes (connections are
   * refused) and every open connection is reset, as when the process dies.
   */
  async suspend(): Promise<void> {
    const server = this.server;
    if (!server || this.suspended) return;
    this.suspended = true;
    const closed = new Promise<void>((ok) => server.close(() => ok()));
    server.closeAllConnections();
    for (const socket of this.sockets.values()) socket.destroy();
    await closed;
  }

  /** Listens again on the port it had (a restarted server keeps its address). */
  async resume(): Promise<void> {
    const server = this.server;
    if (!server || !this.suspended) return;
    await listenOn(server, this.config.bind.address, this.boundPort);
    this.suspended = false;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // A suspended server's listener is already closed; close() then only reports that.
    const closed = new Promise<void>((ok) => server.close(() => ok()));
    // Keep-alive, in-flight downloads and lingering sockets would otherwise hold close() open.
    server.closeAllConnections();
    for (const socket of this.sockets.values()) socket.destroy();
    await closed;
  }

  /** Counts a new connection in, or turns it away before it costs more than its file descriptor. */
  private admit(socket: Socket): void {
    const key = peerKey(socket);
    const verdict = this.budget.admit(socket.remoteAddress ?? '?', socket);
    if (!verdict.ok) {
      this.counts.refused++;
      const limit = verdict.reason === 'max-per-client' ? `${this.limits.maxPerClient} from one address` : `${this.limits.maxConnections} in all`;
      this.connectionEvent({ type: 'http.refused', reason: verdict.reason, remote: key, detail: `connection limit reached (${limit})` });
      socket.on('error', () => {});
      // Over TLS there is no HTTP to speak before a handshake we will not spend on it.
      if (this.config.tls) socket.destroy();
      else socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n', () => socket.destroy());
      return;
    }
    if (verdict.evicted) {
      const limit = verdict.evicted.remoteAddress === socket.remoteAddress ? `${this.limits.maxPerClient} from one address` : `${this.limits.maxConnections} in all`;
      this.drop(verdict.evicted, 'evicted', `connection limit reached (${limit}): the longest-idle connection made room`);
      verdict.evicted.destroy();
    }
    this.sockets.set(key, socket);
    socket.once('close', () => {
      this.budget.release(socket);
      if (this.sockets.get(key) === socket) this.sockets.delete(key);
    });
  }

  /** A request holds its connection busy (not evictable) and is bounded in total time. */
  private track(req: IncomingMessage, res: ServerResponse): void {
    const raw = this.rawOf(req.socket);
    if (!raw) return;
    this.budget.busy(raw);
    const ms = this.limits.responseTimeoutMs;
    // Wall-clock time, like node's own socket timeouts, not a run's clock: what a stalled peer
    // holds (a descriptor, an open file, buffers) costs the host in real time.
    const timer = setTimeout(() => {
      this.drop(raw, 'response-time', `response not done after ${ms} ms`);
      raw.destroy();
    }, ms);
    timer.unref();
    res.once('close', () => {
      clearTimeout(timer);
      this.budget.done(raw);
    });
  }

  /**
   * Ends a socket with a last message and destroys it once the peer has read it and closed,
   * or after the linger at the latest: a peer that never closes its side must not keep the
   * descriptor (node's server allows half-open sockets, so `end` alone would).
   */
  private closeAfter(socket: Duplex, message: string): void {
    const timer = setTimeout(() => socket.destroy(), this.limits.lingerMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.on('error', () => {});
    socket.once('end', () => socket.destroy());
    socket.end(message);
    // Read (and discard) what the peer still sends, so its FIN is seen.
    socket.resume();
  }

  private drop(raw: Socket, reason: HttpConnectionEvent['reason'], detail: string): void {
    this.counts.dropped++;
    this.connectionEvent({ type: 'http.dropped', reason, remote: peerKey(raw), detail });
  }

  private connectionEvent(e: HttpConnectionEvent): void {
    try {
      this.deps.onConnectionEvent?.(e);
    } catch {
      // A failing subscriber must not take the server down.
    }
  }

  /** The raw TCP socket under `socket` (itself on plain HTTP, the one under the TLS socket on HTTPS). */
  private rawOf(socket: Duplex): Socket | undefined {
    return this.sockets.get(peerKey(socket as Socket));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? '';
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return this.reply(req, res, 405);
    }
    const target = await this.resolveTarget(req.url ?? '');
    if (target.kind === 'refused') return this.reply(req, res, target.status);

    // send answers Range, If-Range and the conditional headers (and HEAD) for the one file
    // resolveTarget chose; the choice of file and every refusal stay ours.
    let sent = 0;
    res.setHeader('Content-Type', 'application/octet-stream');
    const options: send.SendOptions & { highWaterMark: number } = {
      dotfiles: 'allow',
      index: false,
      cacheControl: false,
      // 1 MiB reads: a quarter of the syscalls and callbacks of the 64 KiB default, for images of hundreds of MiB.
      highWaterMark: 1 << 20,
    };
    const stream = send(req, encodePath(target.file), options);
    stream.on('stream', (file: ReadStream) => {
      file.on('data', (chunk: Buffer | string) => {
        sent += chunk.length;
      });
    });
    stream.on('error', (e: { status?: number; headers?: Record<string, string> }) => {
      if (res.headersSent) return void res.destroy();
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      for (const [name, value] of Object.entries(e.headers ?? {})) res.setHeader(name, value);
      // emitWhenDone below already reports this response.
      this.endEmpty(res, e.status ?? 500);
    });
    this.emitWhenDone(req, res, () => sent);
    stream.pipe(res);
  }

  /**
   * Maps a request target to a regular file under the root, refusing anything that could
   * name a file outside it: `..` segments (raw or percent-encoded), NUL, backslashes
   * (a Windows-style separator some clients send) and symlinks that resolve elsewhere.
   */
  private async resolveTarget(rawUrl: string): Promise<Resolved> {
    const rawPath = rawUrl.split('?', 1)[0] ?? '';
    if (!rawPath.startsWith('/')) return { kind: 'refused', status: 400 };
    let decoded: string;
    try {
      decoded = decodeURIComponent(rawPath);
    } catch {
      return { kind: 'refused', status: 400 };
    }
    if (decoded.includes('\0') || decoded.includes('\\') || rawPath.includes('\\')) return { kind: 'refused', status: 403 };
    const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
    if (segments.some((s) => s === '..')) return { kind: 'refused', status: 403 };
    const root = this.realRoot!;
    const candidate = join(root, ...segments);
    let real: string;
    try {
      real = await realpath(candidate);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return { kind: 'refused', status: code === 'ENOENT' || code === 'ENOTDIR' ? 404 : 403 };
    }
    if (!isInside(root, real)) return { kind: 'refused', status: 403 };
    const st = await stat(real);
    if (!st.isFile()) return { kind: 'refused', status: 403 };
    return { kind: 'file', file: real, size: st.size };
  }

  private reply(req: IncomingMessage, res: ServerResponse, status: number): void {
    this.endEmpty(res, status);
    this.emitWhenDone(req, res, () => 0);
  }

  /** Ends a response with a status and no body. */
  private endEmpty(res: ServerResponse, status: number): void {
    res.statusCode = status;
    res.setHeader('Content-Length', 0);
    // A 404 is the common answer in ONIE's waterfall (a dozen names tried per pass): the
    // connection stays open for the next name. A request that broke the server (400, 500)
    // gets no second chance on the same connection.
    if (status === 400 || status >= 500) res.setHeader('Connection', 'close');
    res.end();
  }

  private emitWhenDone(req: IncomingMessage, res: ServerResponse, bytes: () => number): void {
    const onEvent = this.deps.onEvent;
    if (!onEvent) return;
    res.once('close', () => {
      const event: HttpRequestEvent = {
        type: 'http.request',
        method: req.method ?? '',
        path: req.url ?? '',
        status: res.statusCode,
        bytes: bytes(),
        remote: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`,
        onieHeaders: onieHeadersOf(req),
      };
      const ua = req.headers['user-agent'];
      if (ua !== undefined) event.userAgent = ua;
      try {
        onEvent(event);
      } catch {
        // A failing subscriber must not take the server down.
      }
    });
  }
}

/** `send` takes a URL path and decodes it: each segment of the file's path is encoded for it. */
function encodePath(file: string): string {
  return file.split(sep).map(encodeURIComponent).join('/');
}

function peerKey(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && resolve(root, rel) === path);
}

function onieHeadersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (/^onie-/i.test(name)) out[name] = raw[i + 1]!;
  }
  return out;
}

/** Listens, or rejects with the listen error (EADDRINUSE, EACCES) instead of emitting it. */
function listenOn(server: HttpServer, host: string, port: number): Promise<void> {
  return new Promise<void>((ok, fail) => {
    server.once('error', fail);
    // An IPv6 listener takes IPv6 only, so it can share its port with an IPv4 one (serve --bind6).
    server.listen({ port, host, ipv6Only: isIPv6(host) }, () => {
      server.off('error', fail);
      ok();
    });
  });
}
