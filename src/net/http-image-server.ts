import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAbsolute, join, relative, resolve } from 'node:path';

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

export interface HttpImageServerConfig {
  /** Directory whose files are served; nothing outside it is ever read. */
  root: string;
  bind: { address: string; port: number };
}

export interface HttpImageServerDeps {
  onEvent?: (e: HttpRequestEvent) => void;
}

type Resolved = { kind: 'file'; file: string; size: number } | { kind: 'refused'; status: 400 | 403 | 404 };

/**
 * The image server ONIE's busybox wget talks to: plain HTTP/1.1, GET and HEAD of files
 * under one root. Every request becomes one `http.request` event carrying the ONIE-*
 * headers, so a scenario can check what a device announced about itself.
 */
export class HttpImageServer {
  private server: Server | undefined;
  private realRoot: string | undefined;

  constructor(
    private readonly config: HttpImageServerConfig,
    private readonly deps: HttpImageServerDeps = {},
  ) {
    if (!config.root) throw new TypeError('HttpImageServer: config.root is required');
    if (!Number.isInteger(config.bind.port) || config.bind.port < 0 || config.bind.port > 65535) {
      throw new RangeError(`HttpImageServer: bind.port must be 0..65535, got ${config.bind.port}`);
    }
  }

  async start(): Promise<{ address: string; port: number }> {
    if (this.server) throw new Error('HttpImageServer: already started');
    this.realRoot = await realpath(this.config.root);
    const server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        // Anything unexpected ends this one response; the server keeps serving.
        if (!res.headersSent) this.reply(req, res, 500);
        else res.destroy();
      });
    });
    // A request node's parser rejects must not reach the default handler's stack trace path.
    server.on('clientError', (_error, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
    this.server = server;
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(this.config.bind.port, this.config.bind.address, () => {
        server.off('error', fail);
        ok();
      });
    });
    const addr = server.address() as AddressInfo;
    return { address: addr.address, port: addr.port };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((ok) => server.close(() => ok()));
    // Keep-alive and in-flight downloads would otherwise hold close() open.
    server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? '';
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return this.reply(req, res, 405);
    }
    const target = await this.resolveTarget(req.url ?? '');
    if (target.kind === 'refused') return this.reply(req, res, target.status);

    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', target.size);
    if (method === 'HEAD') {
      res.end();
      return this.emitWhenDone(req, res, () => 0);
    }
    let sent = 0;
    // 1 MiB reads: a quarter of the syscalls and callbacks of the 64 KiB default, for images of hundreds of MiB.
    const stream = createReadStream(target.file, { highWaterMark: 1 << 20 });
    stream.on('data', (chunk) => {
      sent += chunk.length;
    });
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
    stream.pipe(res);
    this.emitWhenDone(req, res, () => sent);
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
    res.statusCode = status;
    res.setHeader('Content-Length', 0);
    // A 404 is the common answer in ONIE's waterfall (a dozen names tried per pass): the
    // connection stays open for the next name. A request that broke the server (400, 500)
    // gets no second chance on the same connection.
    if (status === 400 || status >= 500) res.setHeader('Connection', 'close');
    res.end();
    this.emitWhenDone(req, res, () => 0);
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
