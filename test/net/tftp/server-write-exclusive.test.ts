import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatagramPeer } from '../../../src/net/datagram-port.js';
import { TftpServer, type TftpServerEvent } from '../../../src/net/tftp/server.js';
import type { TftpPacket } from '../../../src/protocol/tftp/packet.js';
import { tftpPeer } from './tftp-peer.js';

let dir: string;
let server: TftpServer;
let at: DatagramPeer;
const events: TftpServerEvent[] = [];
const uploads = () => join(dir, 'uploads');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-tftp-wx-'));
  await mkdir(join(dir, 'root'));
  await mkdir(uploads());
  server = new TftpServer(
    { root: join(dir, 'root'), bind: { address: '127.0.0.1', port: 0 }, write: { dir: uploads() }, retransmitMs: 200, maxRetries: 20 },
    { onEvent: (e) => events.push(e) },
  );
  at = await server.start();
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A lock-step upload; `beforeLast` runs after the server accepted the WRQ, before the final block. */
async function put(name: string, data: Buffer, beforeLast: () => Promise<void> = async () => {}): Promise<TftpPacket> {
  const peer = await tftpPeer(at);
  try {
    await peer.send({ op: 'wrq', filename: name, mode: 'octet', options: [] });
    const first = await peer.next();
    if (first.p.op === 'error') return first.p;
    const last = Math.floor(data.length / 512) + 1;
    for (let n = 1; n <= last; n++) {
      if (n === last) await beforeLast();
      await peer.send({ op: 'data', block: n, data: data.subarray((n - 1) * 512, n * 512) }, first.from);
      const a = await peer.next();
      if (a.p.op === 'error') return a.p;
    }
    return { op: 'ack', block: last };
  } finally {
    await peer.close();
  }
}

async function until(pred: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('TFTP uploads never replace a file (issue 12)', () => {
  it('12: of two concurrent WRQs for one new name exactly one succeeds, the other gets error 6, and the winner’s bytes stay', async () => {
    const a = randomBytes(20_000);
    const b = randomBytes(30_000);
    const [ra, rb] = await Promise.all([put('same.bin', a), put('same.bin', b)]);
    const outcomes = [ra, rb].map((r) => r.op);
    expect(outcomes.sort()).toEqual(['ack', 'error']);
    const loser = ra.op === 'error' ? ra : rb;
    expect(loser).toMatchObject({ op: 'error', code: 6, message: expect.stringMatching(/already exists/) });
    const winner = ra.op === 'ack' ? a : b;
    expect((await readFile(join(uploads(), 'same.bin'))).equals(winner)).toBe(true);
  });

  it('12: refuses a WRQ for a name another upload is writing right now with error 6 at once', async () => {
    const first = await tftpPeer(at);
    try {
      await first.send({ op: 'wrq', filename: 'busy.bin', mode: 'octet', options: [] });
      const ack0 = await first.next();
      expect(ack0.p).toEqual({ op: 'ack', block: 0 });
      expect(await put('busy.bin', randomBytes(100))).toMatchObject({ op: 'error', code: 6 });
      const body = Buffer.from('the first upload, whole');
      await first.send({ op: 'data', block: 1, data: body }, ack0.from);
      expect((await first.next()).p).toEqual({ op: 'ack', block: 1 });
      expect(await readFile(join(uploads(), 'busy.bin'), 'utf8')).toBe('the first upload, whole');
    } finally {
      await first.close();
    }
  });

  it('12: fails an upload with error 6 when its name appeared on disk while it ran, and keeps what appeared', async () => {
    const got = await put('late.bin', randomBytes(3000), () => writeFile(join(uploads(), 'late.bin'), 'put there by someone else'));
    expect(got).toMatchObject({ op: 'error', code: 6 });
    expect(await readFile(join(uploads(), 'late.bin'), 'utf8')).toBe('put there by someone else');
    // The refused upload's temporary file is gone too.
    expect((await readdir(uploads())).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('12: frees a name again once the upload in progress for it has failed', async () => {
    const first = await tftpPeer(at);
    try {
      await first.send({ op: 'wrq', filename: 'again.bin', mode: 'octet', options: [] });
      const ack0 = await first.next();
      await first.send({ op: 'error', code: 0, message: 'client gave up' }, ack0.from);
      // The socket stays open until the server has heard it (a send is only queued).
      await until(() => events.some((e) => e.type === 'tftp.failed' && e.file === 'again.bin'));
    } finally {
      await first.close();
    }
    await until(() => server.load.transfers === 0);
    const body = randomBytes(1500);
    expect(await put('again.bin', body)).toMatchObject({ op: 'ack' });
    expect((await readFile(join(uploads(), 'again.bin'))).equals(body)).toBe(true);
  });
});
