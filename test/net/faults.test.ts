import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { bindUdp, type DatagramPeer, type DatagramPort } from '../../src/net/datagram-port.js';
import { withDelay, withDuplication, withLoss } from '../../src/net/faults.js';
import { TftpServer } from '../../src/net/tftp/server.js';
import { decodeTftp, encodeTftp } from '../../src/protocol/tftp/packet.js';
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

describe('TFTP under 30 % loss in both directions', () => {
  it('still delivers a file byte-exact (windowsize 8, blksize 1468)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bootlab-loss-'));
    const data = randomBytes(2 * 1024 * 1024 + 5);
    await writeFile(join(dir, 'f.bin'), data);
    const random = new SeededRandom('tftp-loss');
    const server = new TftpServer(
      { root: dir, bind: { address: '127.0.0.1', port: 0 }, retransmitMs: 20, maxRetries: 200 },
      { openPort: async (b) => withLoss(await bindUdp(b), { rate: 0.3, random: random.fork(`${b.port}`) }) },
    );
    const { port } = await server.start();
    const sock = await bindUdp({ address: '127.0.0.1', port: 0 });
    const chunks: Buffer[] = [];
    let next = 1;
    let peer: DatagramPeer | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`not done in 60 s: ${chunks.length} blocks`)), 60_000);
        // Until the server answers, the request itself may be lost: send it again.
        const rrq = encodeTftp({ op: 'rrq', filename: 'f.bin', mode: 'octet', options: [{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '8' }] });
        const resend = setInterval(() => {
          if (!peer) void sock.send(rrq, '127.0.0.1', port);
        }, 50);
        void sock.send(rrq, '127.0.0.1', port);
        sock.onMessage((bytes, from) => {
          const d = decodeTftp(bytes);
          if (!d.ok) return;
          peer = from;
          const p = d.value;
          if (p.op === 'oack') void sock.send(encodeTftp({ op: 'ack', block: 0 }), from.address, from.port);
          if (p.op !== 'data') return;
          if (p.block === (next & 0xffff)) {
            chunks.push(Buffer.from(p.data));
            next++;
            if (p.data.length < 1468) {
              clearTimeout(deadline);
              clearInterval(resend);
              void sock.send(encodeTftp({ op: 'ack', block: p.block }), from.address, from.port);
              return resolve();
            }
          }
          // In order or not, acknowledge the last block received in order (RFC 7440).
          void sock.send(encodeTftp({ op: 'ack', block: (next - 1) & 0xffff }), from.address, from.port);
        });
      });
    } finally {
      await sock.close();
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    }
    const got = Buffer.concat(chunks);
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
  }, 70_000);
});
