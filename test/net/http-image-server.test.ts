import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { onieRequestHeaders, onieUserAgent } from '../../src/device/onie/http-headers.js';
import { downloadImage } from '../../src/net/http-image-client.js';
import { HttpImageServer, type HttpRequestEvent } from '../../src/net/http-image-server.js';
import { kvmIdentity as kvm } from '../device/onie/fixtures.js';


/** Sends a request line verbatim (clients normalise `..` away before it reaches the wire). */
function rawGet(port: number, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    s.setEncoding('latin1');
    s.on('data', (d) => (data += d));
    s.on('error', reject);
    s.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
  });
}

describe('HttpImageServer', () => {
  let dir: string;
  let root: string;
  let server: HttpImageServer;
  let port: number;
  let events: HttpRequestEvent[];
  const payload = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 31 + 7) & 0xff));

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bootlab-http-'));
    root = join(dir, 'www');
    await mkdir(join(root, 'sub'), { recursive: true });
    await writeFile(join(root, 'onie-installer'), payload);
    await writeFile(join(dir, 'secret'), 'outside the root');
    await symlink(join(dir, 'secret'), join(root, 'escape'));
    await symlink(join(root, 'onie-installer'), join(root, 'sub', 'inside-link'));
    events = [];
    server = new HttpImageServer({ root, bind: { address: '127.0.0.1', port: 0 } }, { onEvent: (e) => events.push(e) });
    port = (await server.start()).port;
  });

  afterEach(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves a file byte-exact with Content-Length and octet-stream type', async () => {
    const res = await request(`http://127.0.0.1:${port}/onie-installer`);
    const body = Buffer.from(await res.body.arrayBuffer());
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(payload.length));
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(body.equals(payload)).toBe(true);
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]).toMatchObject({ type: 'http.request', method: 'GET', path: '/onie-installer', status: 200, bytes: payload.length });
  });

  it('suspended (an outage fault) refuses connections and resets open ones; resumed, it serves on the same port', async () => {
    const open = connect(port, '127.0.0.1');
    await new Promise((r) => open.once('connect', r));
    const reset = new Promise((r) => open.once('close', r));
    open.on('error', () => {});
    await server.suspend();
    await reset;
    const refused = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve('connected')));
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    await server.resume();
    const res = await request(`http://127.0.0.1:${port}/onie-installer`);
    expect(res.statusCode).toBe(200);
    expect(Buffer.from(await res.body.arrayBuffer()).equals(payload)).toBe(true);
  });

  it('answers HEAD with the length and no body', async () => {
    const res = await request(`http://127.0.0.1:${port}/onie-installer`, { method: 'HEAD' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-length']).toBe(String(payload.length));
    expect((await res.body.arrayBuffer()).byteLength).toBe(0);
  });

  it('follows a symlink that stays inside the root', async () => {
    const res = await request(`http://127.0.0.1:${port}/sub/inside-link`);
    expect(res.statusCode).toBe(200);
    expect(Buffer.from(await res.body.arrayBuffer()).equals(payload)).toBe(true);
  });

  it('answers 404 for a missing file and 403 for a directory', async () => {
    expect(await rawGet(port, '/onie-installer-x86_64')).toBe(404);
    expect(await rawGet(port, '/sub')).toBe(403);
    expect(await rawGet(port, '/')).toBe(403);
  });

  it('refuses paths that escape the root', async () => {
    expect(await rawGet(port, '/../secret')).toBe(403);
    expect(await rawGet(port, '/sub/../../secret')).toBe(403);
    expect(await rawGet(port, '/%2e%2e/secret')).toBe(403);
    expect(await rawGet(port, '/%2E%2E%2fsecret')).toBe(403);
    expect(await rawGet(port, '/..%5csecret')).toBe(403);
    expect(await rawGet(port, '/onie-installer%00')).toBe(403);
    expect(await rawGet(port, '/escape')).toBe(403);
    expect(await rawGet(port, '/../etc/passwd')).toBe(403);
  });

  it('answers 405 to other methods and 400 to bad encodings, and keeps serving', async () => {
    const res = await request(`http://127.0.0.1:${port}/onie-installer`, { method: 'POST', body: 'x' });
    expect(res.statusCode).toBe(405);
    expect(res.headers['allow']).toBe('GET, HEAD');
    await res.body.dump();
    expect(await rawGet(port, '/%zz')).toBe(400);
    expect(await rawGet(port, 'no-slash')).toBe(400);
    const garbage = connect({ host: '127.0.0.1', port });
    garbage.on('error', () => {});
    let reply = '';
    garbage.on('data', (d) => (reply += String(d)));
    garbage.end('\x00\x01 NOT HTTP AT ALL\r\n\r\n');
    await new Promise((r) => garbage.once('close', r));
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(await rawGet(port, '/onie-installer')).toBe(200);
  });

  it('reports the ONIE-* headers and User-Agent that downloadImage sends', async () => {
    const headers = { 'User-Agent': onieUserAgent(kvm, { sysname: 'Linux', release: '5.4.86' }), ...onieRequestHeaders(kvm, { operation: 'os-install' }) };
    await downloadImage(`http://127.0.0.1:${port}/onie-installer`, { headers, to: join(dir, 'got') });
    await expect.poll(() => events.length).toBe(1);
    const e = events[0]!;
    expect(e.userAgent).toBe('onie/1.0 (Linux-5.4.862025.02.00.01; BusyBox-v1.25.1)');
    expect(e.onieHeaders).toEqual({
      'ONIE-SERIAL-NUMBER': 'VM-1234567890',
      'ONIE-ETH-ADDR': '52:54:00:13:34:01',
      'ONIE-VENDOR-ID': '42623',
      'ONIE-MACHINE': 'kvm_x86_64',
      'ONIE-MACHINE-REV': '0',
      'ONIE-ARCH': 'x86_64',
      'ONIE-SECURITY-KEY': '',
      'ONIE-OPERATION': 'os-install',
      'ONIE-VERSION': '2025.02.00.01',
    });
    expect(e.remote).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('12: answers a single range with 206 and Content-Range, as curl -C - and wget -c resume', async () => {
    const res = await request(`http://127.0.0.1:${port}/onie-installer`, { headers: { range: 'bytes=100-199' } });
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 100-199/${payload.length}`);
    expect(res.headers['content-length']).toBe('100');
    expect(Buffer.from(await res.body.arrayBuffer()).equals(payload.subarray(100, 200))).toBe(true);
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]).toMatchObject({ status: 206, bytes: 100 });

    const resume = await request(`http://127.0.0.1:${port}/onie-installer`, { headers: { range: `bytes=${payload.length - 1000}-` } });
    expect(resume.statusCode).toBe(206);
    expect(Buffer.from(await resume.body.arrayBuffer()).equals(payload.subarray(payload.length - 1000))).toBe(true);
    const suffix = await request(`http://127.0.0.1:${port}/onie-installer`, { headers: { range: 'bytes=-10' } });
    expect(suffix.statusCode).toBe(206);
    expect(Buffer.from(await suffix.body.arrayBuffer()).equals(payload.subarray(payload.length - 10))).toBe(true);
  });

  it('12: answers an unsatisfiable range with 416 and Content-Range bytes */size', async () => {
    const res = await request(`http://127.0.0.1:${port}/onie-installer`, { headers: { range: `bytes=${payload.length}-` } });
    expect(res.statusCode).toBe(416);
    expect(res.headers['content-range']).toBe(`bytes */${payload.length}`);
    expect((await res.body.arrayBuffer()).byteLength).toBe(0);
    await expect.poll(() => events.length).toBe(1);
    expect(events[0]).toMatchObject({ status: 416, bytes: 0 });
  });

  it('12: answers several ranges with the whole file (200), and a range whose If-Range is stale too', async () => {
    const multi = await request(`http://127.0.0.1:${port}/onie-installer`, { headers: { range: 'bytes=0-9,20-29' } });
    expect(multi.statusCode).toBe(200);
    expect(Buffer.from(await multi.body.arrayBuffer()).equals(payload)).toBe(true);
    const stale = await request(`http://127.0.0.1:${port}/onie-installer`, { headers: { range: 'bytes=0-9', 'if-range': '"not-this-one"' } });
    expect(stale.statusCode).toBe(200);
    expect(Buffer.from(await stale.body.arrayBuffer()).length).toBe(payload.length);
  });

  it('12: answers 304 to a conditional GET for an unchanged file (ETag and Last-Modified)', async () => {
    const first = await request(`http://127.0.0.1:${port}/onie-installer`, { method: 'HEAD' });
    await first.body.dump();
    const etag = first.headers['etag'] as string;
    const modified = first.headers['last-modified'] as string;
    expect(first.headers['accept-ranges']).toBe('bytes');
    expect(etag).toBeTruthy();
    const byTag = await request(`http://127.0.0.1:${port}/onie-installer`, { headers: { 'if-none-match': etag } });
    expect(byTag.statusCode).toBe(304);
    expect((await byTag.body.arrayBuffer()).byteLength).toBe(0);
    const byDate = await request(`http://127.0.0.1:${port}/onie-installer`, { headers: { 'if-modified-since': modified } });
    expect(byDate.statusCode).toBe(304);
    await byDate.body.dump();
  });

  it('closes open connections on stop', async () => {
    const s = connect({ host: '127.0.0.1', port });
    await new Promise((r) => s.once('connect', r));
    const closed = new Promise((r) => s.once('close', r));
    s.on('error', () => {});
    await server.stop();
    await closed;
    await expect(rawGet(port, '/onie-installer')).rejects.toThrow();
  });
});
