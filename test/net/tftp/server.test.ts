import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindUdp } from '../../../src/net/datagram-port.js';
import { TftpServer } from '../../../src/net/tftp/server.js';
import { decodeTftp, encodeTftp, type TftpPacket } from '../../../src/protocol/tftp/packet.js';

let dir: string;
let server: TftpServer;
let port: number;
const files: Record<string, Buffer> = {};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-tftp-'));
  await mkdir(join(dir, 'root', 'pxelinux.cfg'), { recursive: true });
  files['small.bin'] = randomBytes(1000);
  files['exact.bin'] = randomBytes(1024); // a multiple of 512: ends with an empty block
  files['big.bin'] = randomBytes(3 * 1024 * 1024 + 17);
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, 'root', name), data);
  await writeFile(join(dir, 'secret'), 'outside the root');
  await symlink(join(dir, 'secret'), join(dir, 'root', 'escape'));
  server = new TftpServer({ root: join(dir, 'root'), bind: { address: '127.0.0.1', port: 0 } });
  port = (await server.start()).port;
});

afterAll(async () => {
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A minimal RFC 7440 client (one ACK per window, one per gap), enough to check the server's side of RFC 1350/2347/7440. */
async function fetch(name: string, options: Array<{ name: string; value: string }> = []): Promise<{ data: Buffer; oack?: TftpPacket; error?: TftpPacket }> {
  const sock = await bindUdp({ address: '127.0.0.1', port: 0 });
  const chunks: Buffer[] = [];
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('tftp fetch timed out')), 10_000);
      let expected = 1;
      let blksize = 512;
      let windowsize = 1;
      let oack: TftpPacket | undefined;
      sock.onMessage((bytes, from) => {
        const d = decodeTftp(bytes);
        if (!d.ok) return;
        const p = d.value;
        if (p.op === 'error') {
          clearTimeout(timer);
          resolve({ data: Buffer.alloc(0), error: p });
        } else if (p.op === 'oack') {
          oack = p;
          blksize = Number(p.options.find((o) => o.name === 'blksize')?.value ?? 512);
          windowsize = Number(p.options.find((o) => o.name === 'windowsize')?.value ?? 1);
          void sock.send(encodeTftp({ op: 'ack', block: 0 }), from.address, from.port);
        } else if (p.op === 'data') {
          if (p.block !== (expected & 0xffff)) return;
          chunks.push(Buffer.from(p.data));
          expected++;
          if ((expected - 1) % windowsize === 0 || p.data.length < blksize) void sock.send(encodeTftp({ op: 'ack', block: p.block }), from.address, from.port);
          if (p.data.length < blksize) {
            clearTimeout(timer);
            resolve({ data: Buffer.concat(chunks), ...(oack ? { oack } : {}) });
          }
        }
      });
      void sock.send(encodeTftp({ op: 'rrq', filename: name, mode: 'octet', options }), '127.0.0.1', port);
    });
  } finally {
    await sock.close();
  }
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('TftpServer', () => {
  it("handles EDK2's size probe (tsize, then error 8 after the OACK) as a finished transfer", async () => {
    const events: Array<{ type: string; detail?: string }> = [];
    const probeServer = new TftpServer({ root: join(dir, 'root'), bind: { address: '127.0.0.1', port: 0 } }, { onEvent: (e) => events.push(e) });
    const probePort = (await probeServer.start()).port;
    const sock = await bindUdp({ address: '127.0.0.1', port: 0 });
    const oack = await new Promise<TftpPacket>((resolve) => {
      sock.onMessage((bytes, from) => {
        const d = decodeTftp(bytes);
        if (!d.ok) return;
        resolve(d.value);
        void sock.send(encodeTftp({ op: 'error', code: 8, message: 'User aborted the transfer' }), from.address, from.port);
      });
      void sock.send(encodeTftp({ op: 'rrq', filename: 'big.bin', mode: 'octet', options: [{ name: 'tsize', value: '0' }] }), '127.0.0.1', probePort);
    });
    expect(oack).toEqual({ op: 'oack', options: [{ name: 'tsize', value: String(files['big.bin']!.length) }] });
    await new Promise((r) => setTimeout(r, 100));
    expect(events.find((e) => e.type === 'tftp.done')?.detail).toMatch(/size probe/);
    await sock.close();
    await probeServer.stop();
  });

  it('serves a file lock-step at 512 bytes, and one that ends on an empty block', async () => {
    expect(sha((await fetch('small.bin')).data)).toBe(sha(files['small.bin']!));
    expect(sha((await fetch('/exact.bin')).data)).toBe(sha(files['exact.bin']!));
  });

  it('negotiates blksize (clamped to 1468), tsize and windowsize in an OACK', async () => {
    const r = await fetch('big.bin', [
      { name: 'blksize', value: '9000' },
      { name: 'tsize', value: '0' },
      { name: 'windowsize', value: '8' },
      { name: 'x-unknown', value: '1' },
    ]);
    expect(r.oack).toEqual({ op: 'oack', options: [{ name: 'blksize', value: '1468' }, { name: 'tsize', value: String(files['big.bin']!.length) }, { name: 'windowsize', value: '8' }] });
    expect(sha(r.data)).toBe(sha(files['big.bin']!));
  });

  it('refuses traversal, a symlink out of the root, a missing file, writes and an impossible option, each with its error', async () => {
    expect((await fetch('../secret')).error).toMatchObject({ code: 2 });
    expect((await fetch('escape')).error).toMatchObject({ code: 2 });
    expect((await fetch('pxelinux.cfg\\default')).error).toMatchObject({ code: 2 });
    expect((await fetch('nope.bin')).error).toMatchObject({ code: 1 });
    expect((await fetch('small.bin', [{ name: 'blksize', value: '4' }])).error).toMatchObject({ code: 8 });
  });

  it('wraps block numbers past 65535 (a 33 MiB file at 512-byte blocks)', async () => {
    const big = randomBytes(33 * 1024 * 1024 + 100);
    await writeFile(join(dir, 'root', 'rollover.bin'), big);
    const r = await fetch('rollover.bin', [{ name: 'windowsize', value: '64' }]);
    expect(r.data.length).toBe(big.length);
    expect(sha(r.data)).toBe(sha(big));
  }, 60_000);

});
