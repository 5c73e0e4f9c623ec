import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpImageServer, type HttpConnectionEvent, type HttpRequestEvent } from '../../src/net/http-image-server.js';
import type { HttpLimits } from '../../src/net/http-limits.js';

/** A peer from `from` (any 127/8 address: Linux routes all of it on lo) that keeps its side open. */
function peer(port: number, from: string): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: from, allowHalfOpen: true });
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (data += d));
    socket.on('error', () => {});
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

/**
 * Resolves once the server has let go of the socket: a byte written to a socket the
 * server destroyed draws a reset, which closes ours. Bounded: 40 probes, 50 ms apart.
 */
async function serverReleased(p: { socket: Socket; closed: Promise<void> }): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    const done = await Promise.race([p.closed.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 50))]);
    if (done) return true;
    if (!p.socket.destroyed) p.socket.write('x');
  }
  return false;
}

function get(port: number, path: string, from?: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ...(from ? { localAddress: from } : {}) }, () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => {
      const all = Buffer.concat(chunks);
      const head = all.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(all.toString('latin1'))?.[1] ?? 0), body: head < 0 ? Buffer.alloc(0) : all.subarray(head + 4) });
    });
  });
}

describe('HttpImageServer budgets (issue 12)', () => {
  let dir: string | undefined;
  let server: HttpImageServer | undefined;
  const peers: Socket[] = [];
  let events: HttpRequestEvent[];
  let connEvents: HttpConnectionEvent[];

  async function serve(limits: Partial<HttpLimits>, fileBytes = 100_000): Promise<number> {
    dir = await mkdtemp(join(tmpdir(), 'bootlab-http-budget-'));
    await writeFile(join(dir, 'image'), Buffer.alloc(fileBytes, 0x5a));
    events = [];
    connEvents = [];
    server = new HttpImageServer(
      { root: dir, bind: { address: '127.0.0.1', port: 0 }, limits },
      { onEvent: (e) => events.push(e), onConnectionEvent: (e) => connEvents.push(e) },
    );
    return (await server.start()).port;
  }
  async function open(port: number, from: string) {
    const p = await peer(port, from);
    peers.push(p.socket);
    return p;
  }

  afterEach(async () => {
    for (const s of peers.splice(0)) s.destroy();
    await server?.stop();
    server = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('12: destroys a socket answered 400 whose peer never closes its side, after the linger', async () => {
    const port = await serve({ lingerMs: 50 });
    const p = await open(port, '127.0.0.1');
    p.socket.write('\x00\x01 NOT HTTP AT ALL\r\n\r\n');
    await expect.poll(() => p.received(), { timeout: 3000 }).toMatch(/^HTTP\/1\.1 400 /);
    expect(await serverReleased(p)).toBe(true);
    expect(connEvents).toContainEqual(expect.objectContaining({ type: 'http.dropped', reason: 'bad-request' }));
  });

  it('12: answers 408 to headers that do not complete within the headers timeout, and lets the socket go', async () => {
    const port = await serve({ headersTimeoutMs: 200, lingerMs: 50 });
    const p = await open(port, '127.0.0.1');
    p.socket.write('GET /image HTTP/1.1\r\nHost: x\r\n');
    await expect.poll(() => p.received(), { timeout: 3000 }).toMatch(/^HTTP\/1\.1 408 /);
    expect(await serverReleased(p)).toBe(true);
    expect(connEvents).toContainEqual(expect.objectContaining({ type: 'http.dropped', reason: 'headers-timeout' }));
  });

  /** A GET of the big image whose reader stopped after the first bytes: a connection busy with a response. */
  async function stalledDownload(port: number, from: string) {
    const p = await open(port, from);
    p.socket.write('GET /image HTTP/1.1\r\nHost: x\r\n\r\n');
    await expect.poll(() => p.received().length, { timeout: 3000 }).toBeGreaterThan(0);
    p.socket.pause();
    return p;
  }

  it('12: turns away a client whose connections are all busy with 503 past the per-client cap, and serves other addresses', async () => {
    // 64 MiB: more than loopback's socket buffers, so a client that does not read stays busy.
    const port = await serve({ maxPerClient: 2 }, 64 << 20);
    await stalledDownload(port, '127.0.0.2');
    await stalledDownload(port, '127.0.0.2');
    const third = await open(port, '127.0.0.2');
    await expect.poll(() => third.received(), { timeout: 3000 }).toMatch(/^HTTP\/1\.1 503 /);
    expect(connEvents).toContainEqual(expect.objectContaining({ type: 'http.refused', reason: 'max-per-client', remote: expect.stringMatching(/^127\.0\.0\.2:/) }));
    expect(server!.stats.refused).toBe(1);
    await expect.poll(() => server!.stats.open).toBe(2);
    const other = await get(port, '/image', '127.0.0.3');
    expect(other.status).toBe(200);
    expect(other.body.length).toBe(64 << 20);
  });

  it('12: holds one address to its cap however many idle connections it opens: each newcomer replaces its oldest', async () => {
    const port = await serve({ maxPerClient: 3, lingerMs: 50 });
    const flood = [];
    for (let i = 0; i < 12; i++) flood.push(await open(port, '127.0.0.2'));
    await expect.poll(() => server!.stats.open).toBe(3);
    expect(connEvents.filter((e) => e.reason === 'evicted')).toHaveLength(9);
    expect(await Promise.all(flood.slice(0, 9).map((p) => serverReleased(p)))).toEqual(Array(9).fill(true));
    expect((await get(port, '/image', '127.0.0.3')).status).toBe(200);
  });

  it('12: serves a legitimate client while the total cap is full of idle peers from other addresses', async () => {
    const port = await serve({ maxConnections: 4, maxPerClient: 2 });
    for (const from of ['127.0.0.2', '127.0.0.2', '127.0.0.3', '127.0.0.3']) await open(port, from);
    await expect.poll(() => server!.stats.open).toBe(4);
    const got = await get(port, '/image', '127.0.0.9');
    expect(got.status).toBe(200);
    expect(got.body.length).toBe(100_000);
    expect(connEvents).toContainEqual(expect.objectContaining({ type: 'http.dropped', reason: 'evicted', remote: expect.stringMatching(/^127\.0\.0\.2:/) }));
    expect(server!.stats.open).toBeLessThanOrEqual(4);
  });

  it('12: refuses a newcomer with 503 when every connection of the cap is busy with a response', async () => {
    const port = await serve({ maxConnections: 2, maxPerClient: 2 }, 64 << 20);
    await stalledDownload(port, '127.0.0.2');
    await stalledDownload(port, '127.0.0.3');
    const late = await get(port, '/image', '127.0.0.4');
    expect(late.status).toBe(503);
    expect(connEvents).toContainEqual(expect.objectContaining({ type: 'http.refused', reason: 'max-connections' }));
  });

  it('12: drops a download whose client stopped reading once no byte moved for the idle timeout', async () => {
    const size = 64 << 20;
    const port = await serve({ idleTimeoutMs: 300 }, size);
    const p = await open(port, '127.0.0.1');
    // Stop reading at the first chunk: polling for it first let a fast loopback deliver all 64 MiB.
    p.socket.once('data', () => p.socket.pause());
    p.socket.write('GET /image HTTP/1.1\r\nHost: x\r\n\r\n');
    await expect.poll(() => p.received().length, { timeout: 3000 }).toBeGreaterThan(0);
    await expect.poll(() => events.length, { timeout: 10_000 }).toBe(1);
    expect(events[0]!.status).toBe(200);
    expect(events[0]!.bytes).toBeLessThan(size);
    expect(connEvents).toContainEqual(expect.objectContaining({ type: 'http.dropped', reason: 'idle' }));
    await expect.poll(() => server!.stats.open).toBe(0);
  });

  it('12: drops a response that is not done within the response time, even with idle time left', async () => {
    const size = 64 << 20;
    const port = await serve({ idleTimeoutMs: 60_000, responseTimeoutMs: 300 }, size);
    const p = await open(port, '127.0.0.1');
    p.socket.write('GET /image HTTP/1.1\r\nHost: x\r\n\r\n');
    p.socket.pause();
    await expect.poll(() => events.length, { timeout: 10_000 }).toBe(1);
    expect(events[0]!.bytes).toBeLessThan(size);
    expect(connEvents).toContainEqual(expect.objectContaining({ type: 'http.dropped', reason: 'response-time' }));
  });

  it('rejects a budget of zero or a fraction when the server is made', () => {
    expect(() => new HttpImageServer({ root: '/tmp', bind: { address: '127.0.0.1', port: 0 }, limits: { maxPerClient: 0 } })).toThrow(/maxPerClient must be a positive integer, got 0/);
    expect(() => new HttpImageServer({ root: '/tmp', bind: { address: '127.0.0.1', port: 0 }, limits: { idleTimeoutMs: 1.5 } })).toThrow(/idleTimeoutMs/);
  });

  it('keeps a keep-alive client served across requests under the caps', async () => {
    const port = await serve({ maxConnections: 2, maxPerClient: 1 });
    const agent = new Agent({ connections: 1 });
    for (let i = 0; i < 3; i++) {
      const res = await request(`http://127.0.0.1:${port}/image`, { dispatcher: agent });
      expect(res.statusCode).toBe(200);
      expect((await res.body.arrayBuffer()).byteLength).toBe(100_000);
    }
    await agent.close();
    expect(connEvents).toEqual([]);
  });
});
