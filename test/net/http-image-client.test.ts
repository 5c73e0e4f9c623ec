import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PeerError, TimeoutError } from '../../src/errors.js';
import { downloadImage } from '../../src/net/http-image-client.js';
import { HttpImageServer } from '../../src/net/http-image-server.js';
import { RunClock } from '../../src/run-clock.js';
import { ScaledClock } from '../../src/clock.js';

describe('downloadImage', () => {
  let dir: string;
  let server: HttpImageServer;
  let base: string;
  const payload = Buffer.from(Array.from({ length: 1_000_003 }, (_, i) => (i * 131 + (i >> 8)) & 0xff));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bootlab-dl-'));
    await writeFile(join(dir, 'image.bin'), payload);
    server = new HttpImageServer({ root: dir, bind: { address: '127.0.0.1', port: 0 } });
    base = `http://127.0.0.1:${(await server.start()).port}`;
  });

  afterEach(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('hashes while downloading: onChunk sees every byte once, in order', async () => {
    const hash = createHash('sha256');
    let seen = 0;
    const to = join(dir, 'out');
    const r = await downloadImage(`${base}/image.bin`, {
      headers: {},
      to,
      onChunk: (c) => {
        seen += c.length;
        hash.update(c);
      },
    });
    expect(r).toEqual({ status: 200, bytes: payload.length });
    expect(seen).toBe(payload.length);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
    expect((await readFile(to)).equals(payload)).toBe(true);
  });

  it('leaves no connection open after the call, even when the server offers keep-alive', async () => {
    let open = 0;
    const keepAlive = await rawServer((s) => {
      open++;
      s.once('close', () => open--);
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello');
    });
    try {
      const r = await downloadImage(`http://127.0.0.1:${keepAlive.port}/x`, { headers: {}, to: join(dir, 'out') });
      expect(r.bytes).toBe(5);
      await expect.poll(() => open, { timeout: 2000 }).toBe(0);
    } finally {
      await keepAlive.close();
    }
  });

  it('throws BL_HTTP_STATUS on a non-2xx answer and leaves no file', async () => {
    const to = join(dir, 'out');
    const e = await downloadImage(`${base}/missing`, { headers: {}, to }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PeerError);
    expect((e as PeerError).code).toBe('BL_HTTP_STATUS');
    expect((e as PeerError).message).toContain(`${base}/missing`);
    expect((e as PeerError).message).toContain('404');
    expect(existsSync(to)).toBe(false);
  });

  it('throws BL_HTTP_CONNECT when the port refuses', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const e = await downloadImage(`http://127.0.0.1:${port}/x`, { headers: {}, to: join(dir, 'out') }).catch((x: unknown) => x);
    expect((e as PeerError).code).toBe('BL_HTTP_CONNECT');
  });

  it('refuses https:// like busybox wget without TLS', async () => {
    const e = await downloadImage('https://127.0.0.1/x', { headers: {}, to: join(dir, 'out') }).catch((x: unknown) => x);
    expect((e as PeerError).code).toBe('BL_HTTP_SCHEME');
  });

  it('stops at maxBytes with BL_HTTP_TOO_LARGE and deletes the partial file', async () => {
    const to = join(dir, 'out');
    const e = await downloadImage(`${base}/image.bin`, { headers: {}, to, maxBytes: 4096 }).catch((x: unknown) => x);
    expect((e as PeerError).code).toBe('BL_HTTP_TOO_LARGE');
    expect(existsSync(to)).toBe(false);
  });

  it('stops at maxBytes when the server sends no Content-Length', async () => {
    const chunked = await rawServer((s) => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n');
      for (let i = 0; i < 8; i++) s.write(`400\r\n${'a'.repeat(1024)}\r\n`);
      s.end('0\r\n\r\n');
    });
    const to = join(dir, 'out');
    try {
      const e = await downloadImage(`http://127.0.0.1:${chunked.port}/x`, { headers: {}, to, maxBytes: 3000 }).catch((x: unknown) => x);
      expect((e as PeerError).code).toBe('BL_HTTP_TOO_LARGE');
      expect(existsSync(to)).toBe(false);
    } finally {
      await chunked.close();
    }
  });

  it('times out a server that accepts and never answers', async () => {
    const silent = await rawServer(() => {});
    try {
      const started = Date.now();
      const e = await downloadImage(`http://127.0.0.1:${silent.port}/x`, { headers: {}, to: join(dir, 'out'), timeoutMs: 200 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TimeoutError);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await silent.close();
    }
  });

  it('times out a body that stalls halfway and deletes the partial file', async () => {
    const stall = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n' + 'x'.repeat(40)));
    const to = join(dir, 'out');
    try {
      const e = await downloadImage(`http://127.0.0.1:${stall.port}/x`, { headers: {}, to, timeoutMs: 200 }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TimeoutError);
      expect(existsSync(to)).toBe(false);
    } finally {
      await stall.close();
    }
  });

  describe('on a run clock', () => {
    it('times out a silent server and a body that stalls, as undici does on the wall', async () => {
      const clock = new RunClock();
      const silent = await rawServer(() => {});
      const stall = await rawServer((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n' + 'x'.repeat(40)));
      const to = join(dir, 'out');
      try {
        const a = await downloadImage(`http://127.0.0.1:${silent.port}/x`, { headers: {}, to, timeoutMs: 200, clock }).catch((x: unknown) => x);
        expect(a).toBeInstanceOf(TimeoutError);
        const b = await downloadImage(`http://127.0.0.1:${stall.port}/x`, { headers: {}, to, timeoutMs: 200, clock }).catch((x: unknown) => x);
        expect(b).toBeInstanceOf(TimeoutError);
        expect((b as TimeoutError).message).toBe(`GET http://127.0.0.1:${stall.port}/x timed out after 200 ms`);
        expect(existsSync(to)).toBe(false);
      } finally {
        clock.stop();
        await silent.close();
        await stall.close();
      }
    });

    it('counts idle time, not total time: a slow trickle that never pauses for the timeout completes', async () => {
      const clock = new RunClock();
      const trickle = await rawServer((s) => {
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\n');
        let sent = 0;
        const t = setInterval(() => {
          s.write('y');
          if (++sent === 8) {
            clearInterval(t);
            s.end();
          }
        }, 60);
      });
      try {
        const r = await downloadImage(`http://127.0.0.1:${trickle.port}/x`, { headers: {}, to: join(dir, 'out'), timeoutMs: 200, clock });
        expect(r).toEqual({ status: 200, bytes: 8 });
      } finally {
        clock.stop();
        await trickle.close();
      }
    });

    it('does not spend the timeout on a stalled event loop: a busy host is not a slow server', async () => {
      // Once the request is out the loop is stuck for nearly four timeouts' worth; the
      // server then answers within three quarters of the timeout. On a plain wall clock the
      // stall spends the timeout and the GET fails; on the run clock it succeeds.
      const busy = await rawServer((s) => {
        const end = performance.now() + 1500;
        while (performance.now() < end) {
          // busy
        }
        setTimeout(() => s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok'), 300);
      });
      const clock = new RunClock();
      const url = `http://127.0.0.1:${busy.port}/x`;
      try {
        const wall = await downloadImage(url, { headers: {}, to: join(dir, 'out'), timeoutMs: 400, clock: new ScaledClock(1) }).catch((x: unknown) => x);
        expect(wall).toBeInstanceOf(TimeoutError);
        expect(await downloadImage(url, { headers: {}, to: join(dir, 'out'), timeoutMs: 400, clock })).toEqual({ status: 200, bytes: 2 });
      } finally {
        clock.stop();
        await busy.close();
      }
    });
  });

  it('rejects with the abort reason when aborted', async () => {
    const silent = await rawServer(() => {});
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(new Error('stop now')), 50);
      const e = await downloadImage(`http://127.0.0.1:${silent.port}/x`, { headers: {}, to: join(dir, 'out'), signal: ac.signal }).catch((x: unknown) => x);
      expect((e as Error).message).toBe('stop now');
    } finally {
      await silent.close();
    }
  });
});

async function rawServer(onConnection: (s: import('node:net').Socket) => void): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<import('node:net').Socket>();
  const srv: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.once('data', () => onConnection(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}
