import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TftpServer, type TftpServerEvent } from '../../../src/net/tftp/server.js';
import { encodeTftp, type TftpOptions, type TftpPacket } from '../../../src/protocol/tftp/packet.js';
import { tftpPeer, type TftpPeer } from './tftp-peer.js';

let dir: string;
let server: TftpServer;
let port: number;
const events: TftpServerEvent[] = [];
const image = randomBytes(200_000);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-tftp-wrq-'));
  await mkdir(join(dir, 'root'));
  await mkdir(join(dir, 'uploads', 'logs'), { recursive: true });
  await writeFile(join(dir, 'root', 'image.bin'), image);
  await writeFile(join(dir, 'uploads', 'taken.txt'), 'already here');
  server = new TftpServer(
    { root: join(dir, 'root'), bind: { address: '127.0.0.1', port: 0 }, write: { dir: join(dir, 'uploads'), maxBytes: 100_000 }, retransmitMs: 50, maxRetries: 3 },
    {
      onEvent: (e) => events.push(e),
      // Per-client content: a config that names the asking port, for one file name only.
      content: ({ filename, remote }) => (filename === 'pxelinux.cfg/by-client' ? Buffer.from(`client ${remote.address}:${remote.port}\n`) : undefined),
    },
  );
  port = (await server.start()).port;
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A socket that collects every packet it receives, for driving the server by hand. */
const peer = (): Promise<TftpPeer> => tftpPeer({ address: '127.0.0.1', port });

/** Uploads `data` as a minimal RFC 7440 writer: a window of blocks, then waits for the ACK of its end. */
async function put(name: string, data: Uint8Array, options: TftpOptions = []): Promise<TftpPacket> {
  const c = await peer();
  try {
    await c.sock.send(encodeTftp({ op: 'wrq', filename: name, mode: 'octet', options }), '127.0.0.1', port);
    const first = await c.next();
    if (first.p.op === 'error') return first.p;
    const tid = first.from;
    const blksize = first.p.op === 'oack' ? Number(first.p.options.find((o) => o.name === 'blksize')?.value ?? 512) : 512;
    const windowsize = first.p.op === 'oack' ? Number(first.p.options.find((o) => o.name === 'windowsize')?.value ?? 1) : 1;
    const last = Math.floor(data.length / blksize) + 1;
    let acked = 0;
    for (let rounds = 0; rounds < 10_000 && acked < last; rounds++) {
      const until = Math.min(acked + windowsize, last);
      for (let n = acked + 1; n <= until; n++) {
        await c.sock.send(encodeTftp({ op: 'data', block: n & 0xffff, data: data.subarray((n - 1) * blksize, Math.min(n * blksize, data.length)) }), tid.address, tid.port);
      }
      const a = await c.next();
      if (a.p.op === 'error') return a.p;
      if (a.p.op === 'ack') acked += (a.p.block - (acked & 0xffff) + 0x10000) & 0xffff;
    }
    return { op: 'ack', block: acked & 0xffff };
  } finally {
    await c.close();
  }
}

async function get(name: string): Promise<Buffer | TftpPacket> {
  const c = await peer();
  const chunks: Buffer[] = [];
  try {
    await c.sock.send(encodeTftp({ op: 'rrq', filename: name, mode: 'octet', options: [] }), '127.0.0.1', port);
    for (let i = 0; i < 10_000; i++) {
      const { p, from } = await c.next();
      if (p.op === 'error') return p;
      if (p.op !== 'data') continue;
      chunks.push(Buffer.from(p.data));
      await c.sock.send(encodeTftp({ op: 'ack', block: p.block }), from.address, from.port);
      if (p.data.length < 512) return Buffer.concat(chunks);
    }
    throw new Error('too many blocks');
  } finally {
    await c.close();
  }
}

describe('TFTP writes (WRQ)', () => {
  it('accepts an upload into the write directory, lock-step and windowed, and only whole files appear', async () => {
    const log = randomBytes(5000);
    expect(await put('install.log', log)).toMatchObject({ op: 'ack' });
    expect(sha(await readFile(join(dir, 'uploads', 'install.log')))).toBe(sha(log));
    const big = randomBytes(60_000);
    const oackAck = await put('/logs/switch-1.log', big, [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '4' }, { name: 'tsize', value: String(big.length) }]);
    expect(oackAck).toMatchObject({ op: 'ack' });
    expect(sha(await readFile(join(dir, 'uploads', 'logs', 'switch-1.log')))).toBe(sha(big));
    // No temporary files are left behind.
    expect((await readdir(join(dir, 'uploads'))).sort()).toEqual(['install.log', 'logs', 'taken.txt']);
  });

  it('refuses an existing name (6), traversal (2), an announced size over the limit (3), and an upload that grows past it (3)', async () => {
    expect(await put('taken.txt', Buffer.from('x'))).toMatchObject({ op: 'error', code: 6 });
    expect(await readFile(join(dir, 'uploads', 'taken.txt'), 'utf8')).toBe('already here');
    expect(await put('../root/image.bin', Buffer.from('x'))).toMatchObject({ op: 'error', code: 2 });
    expect(await put('nodir/x.bin', Buffer.from('x'))).toMatchObject({ op: 'error', code: 2 });
    expect(await put('big.bin', Buffer.alloc(10), [{ name: 'tsize', value: '100001' }])).toMatchObject({ op: 'error', code: 3 });
    expect(await put('grows.bin', randomBytes(100_600))).toMatchObject({ op: 'error', code: 3 });
    expect((await readdir(join(dir, 'uploads'))).filter((f) => f.startsWith('.') || f === 'grows.bin')).toEqual([]);
  });

  it('refuses writes when no write directory is configured', async () => {
    const readOnly = new TftpServer({ root: join(dir, 'root'), bind: { address: '127.0.0.1', port: 0 } });
    const p = (await readOnly.start()).port;
    const c = await peer();
    await c.sock.send(encodeTftp({ op: 'wrq', filename: 'x', mode: 'octet', options: [] }), '127.0.0.1', p);
    expect((await c.next()).p).toMatchObject({ op: 'error', code: 2 });
    await c.close();
    await readOnly.stop();
  });
});

describe('TFTP transfers and strangers', () => {
  it('answers a datagram from another port with error 5 and goes on with the transfer', async () => {
    const c = await peer();
    const stranger = await peer();
    await c.sock.send(encodeTftp({ op: 'rrq', filename: 'image.bin', mode: 'octet', options: [] }), '127.0.0.1', port);
    const first = await c.next();
    expect(first.p).toMatchObject({ op: 'data', block: 1 });
    await stranger.sock.send(encodeTftp({ op: 'ack', block: 1 }), first.from.address, first.from.port);
    expect((await stranger.next()).p).toMatchObject({ op: 'error', code: 5 });
    // The transfer did not move: block 1 is still unacknowledged, so it comes again.
    expect((await c.next()).p).toMatchObject({ op: 'data', block: 1 });
    await c.sock.send(encodeTftp({ op: 'ack', block: 1 }), first.from.address, first.from.port);
    let next = await c.next();
    while (next.p.op === 'data' && next.p.block === 1) next = await c.next();
    expect(next.p).toMatchObject({ op: 'data', block: 2 });
    await c.sock.send(encodeTftp({ op: 'error', code: 0, message: 'done testing' }), first.from.address, first.from.port);
    await Promise.all([c.close(), stranger.close()]);
  });

  it('absorbs a request repeated from the same port while its transfer runs (one transfer, not two)', async () => {
    const c = await peer();
    const rrq = encodeTftp({ op: 'rrq', filename: 'image.bin', mode: 'octet', options: [{ name: 'blksize', value: '1024' }] });
    const before = events.filter((e) => e.type === 'tftp.request').length;
    await c.sock.send(rrq, '127.0.0.1', port);
    await c.sock.send(rrq, '127.0.0.1', port);
    const oack = await c.next();
    expect(oack.p.op).toBe('oack');
    await new Promise((r) => setTimeout(r, 30));
    expect(events.filter((e) => e.type === 'tftp.request').length - before).toBe(1);
    expect(server.stats.dropped['repeated-request']).toBeGreaterThanOrEqual(1);
    await c.sock.send(encodeTftp({ op: 'error', code: 0, message: 'done testing' }), oack.from.address, oack.from.port);
    await c.close();
  });
});

describe("duplicate ACKs (the Sorcerer's Apprentice)", () => {
  it('never answer a repeated ACK with a repeated window, lock-step or windowed', async () => {
    // A long retransmission timer: any extra DATA in this test can only come from the duplicates.
    const quiet = new TftpServer({ root: join(dir, 'root'), bind: { address: '127.0.0.1', port: 0 }, retransmitMs: 10_000 });
    const qport = (await quiet.start()).port;
    const drain = async (c: Awaited<ReturnType<typeof peer>>, ms: number): Promise<TftpPacket[]> => {
      const got: TftpPacket[] = [];
      for (;;) {
        try {
          got.push((await c.next(ms)).p);
        } catch {
          return got;
        }
      }
    };
    try {
      const c = await peer();
      await c.sock.send(encodeTftp({ op: 'rrq', filename: 'image.bin', mode: 'octet', options: [] }), '127.0.0.1', qport);
      const first = await c.next();
      for (let i = 0; i < 3; i++) await c.sock.send(encodeTftp({ op: 'ack', block: 1 }), first.from.address, first.from.port);
      expect((await drain(c, 150)).map((p) => (p.op === 'data' ? p.block : p.op))).toEqual([2]);
      await c.close();

      const w = await peer();
      await w.sock.send(encodeTftp({ op: 'rrq', filename: 'image.bin', mode: 'octet', options: [{ name: 'windowsize', value: '4' }] }), '127.0.0.1', qport);
      const oack = await w.next();
      await w.sock.send(encodeTftp({ op: 'ack', block: 0 }), oack.from.address, oack.from.port);
      expect((await drain(w, 150)).map((p) => (p.op === 'data' ? p.block : p.op))).toEqual([1, 2, 3, 4]);
      for (let i = 0; i < 3; i++) await w.sock.send(encodeTftp({ op: 'ack', block: 4 }), oack.from.address, oack.from.port);
      expect((await drain(w, 150)).map((p) => (p.op === 'data' ? p.block : p.op))).toEqual([5, 6, 7, 8]);
      await w.close();
    } finally {
      await quiet.stop();
    }
  });
});

describe('TFTP content hook', () => {
  it('serves generated bytes per client, and falls through to the root for other names', async () => {
    const generated = await get('pxelinux.cfg/by-client');
    expect(Buffer.isBuffer(generated)).toBe(true);
    expect((generated as Buffer).toString()).toMatch(/^client 127\.0\.0\.1:\d+\n$/);
    expect(sha((await get('image.bin')) as Buffer)).toBe(sha(image));
    expect(await get('pxelinux.cfg/other')).toMatchObject({ op: 'error', code: 1 });
  });
});
