import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedClock } from 'xstate';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DatagramPeer } from '../../../src/net/datagram-port.js';
import { TftpServer, type TftpServerConfig, type TftpServerDeps, type TftpServerEvent } from '../../../src/net/tftp/server.js';
import { download, request, tftpPeer, type TftpPeer } from './tftp-peer.js';

let dir: string;
const image = randomBytes(300_000);
const opened: TftpServer[] = [];
const peers: TftpPeer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-tftp-budget-'));
  await writeFile(join(dir, 'image.bin'), image);
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
  await Promise.all(opened.splice(0).map((s) => s.stop()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function serve(config: Partial<TftpServerConfig>, deps: TftpServerDeps = {}): Promise<{ server: TftpServer; at: DatagramPeer; events: TftpServerEvent[] }> {
  const events: TftpServerEvent[] = [];
  const server = new TftpServer({ root: dir, bind: { address: '127.0.0.1', port: 0 }, ...config }, { onEvent: (e) => events.push(e), ...deps });
  opened.push(server);
  return { server, at: await server.start(), events };
}

/** An RRQ that asks for options and then never acknowledges the OACK: what a flood looks like. */
async function stall(at: DatagramPeer, address: string) {
  const r = await request(at, address, 'image.bin', [{ name: 'blksize', value: '1468' }]);
  peers.push(r.peer);
  return r.first;
}

/** Waits (bounded) until `cond` holds. */
async function waitFor(cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits (bounded) until `pred` holds for one of the events seen so far. */
async function until(events: TftpServerEvent[], pred: (e: TftpServerEvent) => boolean, ms = 15_000): Promise<TftpServerEvent> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const hit = events.find(pred);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no matching event within ${ms} ms: ${JSON.stringify(events.slice(-5))}`);
}

const retryForever = { retransmitMs: 1000, maxRetries: 10_000, maxSilenceMs: 3_600_000 };

describe('TFTP server budgets (issue 12)', () => {
  it('12: refuses a client over its per-client budget with error 0 "server busy" and still serves another address', async () => {
    const { server, at, events } = await serve({ ...retryForever, maxTransfersPerClient: 2 });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await stall(at, '127.0.0.2'));
    expect(answers.map((a) => a.op)).toEqual(['oack', 'oack', 'error', 'error', 'error']);
    expect(answers[2]).toMatchObject({ op: 'error', code: 0, message: expect.stringMatching(/server busy/) });
    expect(server.stats.busy).toBe(3);
    expect(events.filter((e) => e.type === 'tftp.refused' && /server busy/.test(e.detail ?? ''))).toHaveLength(3);
    const got = await download(at, '127.0.0.3', 'image.bin');
    expect(Buffer.isBuffer(got) && got.equals(image)).toBe(true);
  });

  it('12: when all places are held by peers that never answered, a newcomer takes the oldest once it has waited a retransmission period', async () => {
    const clock = new SimulatedClock();
    const { server, at } = await serve({ ...retryForever, maxTransfers: 4, maxTransfersPerClient: 1 }, { clock });
    for (const a of ['127.0.0.10', '127.0.0.11', '127.0.0.12', '127.0.0.13']) expect((await stall(at, a)).op).toBe('oack');
    // All four are younger than one retransmission period: a fifth address is refused.
    expect(await stall(at, '127.0.0.14')).toMatchObject({ op: 'error', code: 0, message: expect.stringMatching(/server busy/) });
    clock.increment(1500);
    const got = await download(at, '127.0.0.20', 'image.bin');
    expect(Buffer.isBuffer(got) && got.equals(image)).toBe(true);
    expect(server.stats.evicted).toBe(1);
    expect(server.load.transfers).toBeLessThanOrEqual(4);
  });

  it('12: never evicts a transfer whose peer answers: a full server of real clients refuses the newcomer', async () => {
    const clock = new SimulatedClock();
    const { at } = await serve({ ...retryForever, maxTransfers: 1 }, { clock });
    const first = await request(at, '127.0.0.30', 'image.bin', [{ name: 'blksize', value: '1468' }]);
    peers.push(first.peer);
    expect(first.first.op).toBe('oack');
    await first.peer.send({ op: 'ack', block: 0 }, first.from);
    expect((await first.peer.next()).p).toMatchObject({ op: 'data', block: 1 });
    clock.increment(5000);
    expect(await stall(at, '127.0.0.31')).toMatchObject({ op: 'error', code: 0 });
  });

  it('12: drops a peer that never acknowledges once the silence limit is reached, however many retries are allowed', async () => {
    const { server, at, events } = await serve({ retransmitMs: 50, maxRetries: 100_000, maxSilenceMs: 400 });
    expect((await stall(at, '127.0.0.40')).op).toBe('oack');
    const failed = await until(events, (e) => e.type === 'tftp.failed');
    expect(failed.detail).toMatch(/no answer after \d+ retransmissions \(\d+ ms of silence\)/);
    expect(server.load.transfers).toBe(0);
  });

  it('12: leaves a timeout above the limit out of the OACK (RFC 2349: no other value may be acknowledged) and echoes one within it', async () => {
    const { at } = await serve({ maxTimeoutS: 10 });
    const long = await request(at, '127.0.0.1', 'image.bin', [
      { name: 'timeout', value: '255' },
      { name: 'blksize', value: '1024' },
    ]);
    peers.push(long.peer);
    expect(long.first).toEqual({ op: 'oack', options: [{ name: 'blksize', value: '1024' }] });
    const short = await request(at, '127.0.0.1', 'image.bin', [{ name: 'timeout', value: '3' }]);
    peers.push(short.peer);
    expect(short.first).toEqual({ op: 'oack', options: [{ name: 'timeout', value: '3' }] });
  });

  it('12: ends a transfer that outlives the total time limit, on the injected clock', async () => {
    const clock = new SimulatedClock();
    const { server, at, events } = await serve({ ...retryForever, maxTransferMs: 60_000 }, { clock });
    expect((await stall(at, '127.0.0.50')).op).toBe('oack');
    clock.increment(59_000);
    expect(events.some((e) => e.type === 'tftp.failed')).toBe(false);
    clock.increment(1_000);
    const failed = await until(events, (e) => e.type === 'tftp.failed');
    expect(failed.detail).toMatch(/transfer time limit of 60000 ms/);
    await waitFor(() => server.load.transfers === 0);
  });

  it('12: holds no file open and no file bytes for requests waiting on their OACK, one block each for plain ones, on one shared handle', async () => {
    const { server, at } = await serve({ ...retryForever, maxTransfersPerClient: 64 });
    for (let i = 0; i < 20; i++) expect((await stall(at, '127.0.0.60')).op).toBe('oack');
    expect(server.load).toEqual({ transfers: 20, bufferedBytes: 0, openFiles: 0 });
    for (let i = 0; i < 10; i++) {
      const r = await request(at, '127.0.0.61', 'image.bin');
      peers.push(r.peer);
      expect(r.first).toMatchObject({ op: 'data', block: 1 });
    }
    // Ten transfers wait for ACK 1: one 512-byte block (and its header) each, one descriptor in all.
    expect(server.load).toEqual({ transfers: 30, bufferedBytes: 10 * 516, openFiles: 1 });
  });

  it('12: with the default budgets a real client is served through a flood of never-acknowledged RRQs from 20 addresses, in bounded memory', async () => {
    const clock = new SimulatedClock();
    // Budgets as shipped; only the flood's own give-up is pushed out, so it stays put while counted.
    const { server, at } = await serve({ maxRetries: 10_000, maxSilenceMs: 3_600_000 }, { clock });
    const flood: Promise<void>[] = [];
    for (let a = 0; a < 20; a++) {
      for (let i = 0; i < 17; i++) {
        flood.push(
          tftpPeer(at, `127.0.1.${a + 1}`).then((p) => {
            peers.push(p);
            return p.send({ op: 'rrq', filename: 'image.bin', mode: 'octet', options: [] });
          }),
        );
      }
    }
    await Promise.all(flood);
    await waitFor(() => server.stats.busy + server.load.transfers === 340);
    // 16 per address, 256 in all; the rest heard "server busy".
    expect(server.load.transfers).toBe(256);
    expect(server.stats.busy).toBe(84);
    // One 512-byte block (and its header) per transfer, one open file. The first blocks
    // are read asynchronously after admission, so wait for all of them; more never comes.
    await waitFor(() => server.load.bufferedBytes >= 256 * 516);
    expect(server.load.bufferedBytes).toBe(256 * 516);
    expect(server.load.openFiles).toBe(1);
    clock.increment(1000);
    const got = await download(at, '127.0.2.1', 'image.bin');
    expect(Buffer.isBuffer(got) && got.equals(image)).toBe(true);
  });

  it('12: refuses budgets that are not positive numbers when constructed', () => {
    const root = { root: dir, bind: { address: '127.0.0.1', port: 0 } };
    expect(() => new TftpServer({ ...root, maxTransfers: 0 })).toThrow(/total must be a positive integer/);
    expect(() => new TftpServer({ ...root, maxTransfersPerClient: 1.5 })).toThrow(/perClient must be a positive integer/);
    expect(() => new TftpServer({ ...root, maxSilenceMs: -1 })).toThrow(/maxSilenceMs must be a positive number/);
  });
});
