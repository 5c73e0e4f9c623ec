import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { ScaledClock } from '../../src/clock.js';
import { bindUdp, type DatagramPeer, type DatagramPort } from '../../src/net/datagram-port.js';
import { describeFaults, faultyPorts, OutageSwitch, withDelay, withDuplication, withLoss } from '../../src/net/faults.js';
import { tftpGet } from '../../src/net/tftp/client.js';
import { TftpServer } from '../../src/net/tftp/server.js';
import { SeededRandom } from '../../src/random.js';

function counterPort(): { port: DatagramPort; sent: number[]; deliver(n: number): void } {
  const sent: number[] = [];
  let listener: ((b: Uint8Array, f: DatagramPeer) => void) | undefined;
  return {
    sent,
    deliver: (n) => listener?.(Uint8Array.of(n), { address: '127.0.0.1', port: 1 }),
    port: {
      send: async (bytes) => void sent.push(bytes[0]!),
      onMessage: (fn) => {
        listener = fn;
        return () => (listener = undefined);
      },
      close: async () => undefined,
      address: () => ({ address: '127.0.0.1', port: 2 }),
    },
  };
}

describe('fault wrappers', () => {
  it('drop about `rate` of the datagrams, the same ones for the same seed', async () => {
    const runOnce = async (): Promise<number[]> => {
      const c = counterPort();
      const lossy = withLoss(c.port, { rate: 0.3, random: new SeededRandom('loss'), direction: 'send' });
      for (let i = 0; i < 1000; i++) await lossy.send(Uint8Array.of(i & 0xff), '127.0.0.1', 1);
      return c.sent;
    };
    const a = await runOnce();
    expect(a.length).toBeGreaterThan(630);
    expect(a.length).toBeLessThan(770);
    expect(await runOnce()).toEqual(a);
  });

  it('duplicate received datagrams at the given rate and delay them on the clock', () => {
    const c = counterPort();
    const got: number[] = [];
    withDuplication(c.port, { rate: 1, random: new SeededRandom(1), direction: 'receive' }).onMessage((b) => got.push(b[0]!));
    c.deliver(7);
    expect(got).toEqual([7, 7]);

    const clock = new SimulatedClock();
    const d = counterPort();
    const late: number[] = [];
    withDelay(d.port, { ms: 50, clock, random: new SeededRandom(1), direction: 'receive' }).onMessage((b) => late.push(b[0]!));
    d.deliver(9);
    expect(late).toEqual([]);
    clock.increment(50);
    expect(late).toEqual([9]);
  });
});

describe('faultyPorts (faults as data, per server)', () => {
  it('wraps every port a server opens; one seed replays the same faults whatever the OS port numbers', async () => {
    const pattern = async (seed: string): Promise<number[][]> => {
      const made: Array<ReturnType<typeof counterPort>> = [];
      const open = faultyPorts(async () => {
        const c = counterPort();
        made.push(c);
        return c.port;
      }, { loss: 0.25, duplicate: 0.1, direction: 'send' }, new SeededRandom(seed), new ScaledClock(1));
      for (let p = 0; p < 3; p++) {
        const port = await open({ address: '127.0.0.1', port: 0 });
        for (let i = 0; i < 200; i++) await port.send(Uint8Array.of(i & 0xff), '127.0.0.1', 1);
      }
      return made.map((c) => c.sent);
    };
    const a = await pattern('rack-1');
    expect(a).toEqual(await pattern('rack-1'));
    expect(a).not.toEqual(await pattern('rack-2'));
    // Each port has its own draw: the three patterns differ.
    expect(new Set(a.map((x) => x.join(','))).size).toBe(3);
    const total = a.flat().length;
    expect(total).toBeGreaterThan(600 * 0.75 * 1.1 * 0.85);
    expect(total).toBeLessThan(600 * 0.75 * 1.1 * 1.15);
    expect(describeFaults({ loss: 0.25, duplicate: 0.1, delayMs: 5, jitterMs: 3, direction: 'send' })).toBe('loss 25 %, duplicate 10 %, delay 5 ms + up to 3 ms (send only)');
  });
});

describe('TFTP under 30 % loss in both directions', () => {
  it('still delivers 16 MiB byte-exact (blksize 1468, windowsize 8, every datagram of the server 30 % lost)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bootlab-loss-'));
    const data = randomBytes(16 * 1024 * 1024 + 5);
    await writeFile(join(dir, 'f.bin'), data);
    const random = new SeededRandom('tftp-loss');
    const server = new TftpServer(
      { root: dir, bind: { address: '127.0.0.1', port: 0 }, retransmitMs: 3, maxRetries: 1000 },
      { openPort: async (b) => withLoss(await bindUdp(b), { rate: 0.3, random: random.fork(`${b.port}`) }) },
    );
    const { port } = await server.start();
    const hash = createHash('sha256');
    try {
      const r = await tftpGet({
        server: { address: '127.0.0.1', port },
        filename: 'f.bin',
        options: [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '8' }],
        // Loopback answers in well under a millisecond: short timers keep 30 % loss from
        // turning into minutes of waiting, and the retry counts restart on every progress.
        retryMs: 3,
        retries: 1000,
        clock: new ScaledClock(1),
        onData: (c) => hash.update(c),
      });
      expect(r.bytes).toBe(data.length);
      expect(hash.digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    } finally {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('an outage switch silences every port it opened while down, both ways, and counts what it dropped', async () => {
    const outage = new OutageSwitch();
    const server = await outage.ports(bindUdp)({ address: '127.0.0.1', port: 0 });
    const client = await bindUdp({ address: '127.0.0.1', port: 0 });
    const heard: string[] = [];
    const echoed: string[] = [];
    server.onMessage((b, from) => {
      heard.push(Buffer.from(b).toString());
      void server.send(b, from.address, from.port);
    });
    client.onMessage((b) => echoed.push(Buffer.from(b).toString()));
    try {
      const to = server.address();
      outage.down = true;
      await client.send(Buffer.from('while down'), to.address, to.port);
      await new Promise((r) => setTimeout(r, 50));
      expect(heard).toEqual([]);
      expect(outage.dropped).toBe(1);
      outage.down = false;
      await client.send(Buffer.from('back up'), to.address, to.port);
      await expect.poll(() => echoed).toEqual(['back up']);
      expect(heard).toEqual(['back up']);
    } finally {
      await client.close();
      await server.close();
    }
  });
});
