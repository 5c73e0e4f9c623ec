import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../src/clock.js';
import { bindUdp } from '../../../src/net/datagram-port.js';
import { withLoss } from '../../../src/net/faults.js';
import { tftpGet, TFTP_CLIENT_PROFILES } from '../../../src/net/tftp/client.js';
import { TftpServer, type TftpServerEvent } from '../../../src/net/tftp/server.js';
import { SeededRandom } from '../../../src/random.js';

let dir: string;
let server: TftpServer;
let port: number;
const events: TftpServerEvent[] = [];
const data = randomBytes(700_000);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-tftp-client-'));
  await writeFile(join(dir, 'nbp.efi'), data);
  server = new TftpServer({ root: dir, bind: { address: '127.0.0.1', port: 0 }, retransmitMs: 5, maxRetries: 1000 }, { onEvent: (e) => events.push(e) });
  port = (await server.start()).port;
});

afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

async function get(options: typeof TFTP_CLIENT_PROFILES[keyof typeof TFTP_CLIENT_PROFILES], lossy = false) {
  const chunks: Buffer[] = [];
  const random = new SeededRandom('client-loss');
  const r = await tftpGet({
    server: { address: '127.0.0.1', port },
    filename: 'nbp.efi',
    options,
    retryMs: 5,
    retries: 1000,
    clock: new ScaledClock(1),
    onData: (c) => chunks.push(Buffer.from(c)),
    ...(lossy ? { openPort: async (b: Parameters<typeof bindUdp>[0]) => withLoss(await bindUdp(b), { rate: 0.3, random }) } : {}),
  });
  return { ...r, data: Buffer.concat(chunks) };
}

describe('tftpGet', () => {
  it('reads like busybox (512-byte lock-step, no options)', async () => {
    const r = await get(TFTP_CLIENT_PROFILES.busybox);
    expect(r.granted).toEqual([]);
    expect(sha(r.data)).toBe(sha(data));
  });

  it('reads like EDK2 (blksize 1468, windowsize 4) and like iPXE (blksize 1432)', async () => {
    const edk2 = await get(TFTP_CLIENT_PROFILES.edk2);
    expect(edk2.granted).toEqual([{ name: 'blksize', value: '1468' }, { name: 'windowsize', value: '4' }]);
    expect(sha(edk2.data)).toBe(sha(data));
    const ipxe = await get(TFTP_CLIENT_PROFILES.ipxe);
    expect(ipxe.granted).toEqual([{ name: 'blksize', value: '1432' }]);
    expect(ipxe.bytes).toBe(data.length);
  });

  it('gets every byte through 30 % loss on its own socket', async () => {
    const r = await get(TFTP_CLIENT_PROFILES.edk2, true);
    expect(sha(r.data)).toBe(sha(data));
  });

  it("rejects with the server's error for a missing file", async () => {
    await expect(
      tftpGet({ server: { address: '127.0.0.1', port }, filename: 'absent', retryMs: 30, retries: 3, clock: new ScaledClock(1), onData: () => undefined }),
    ).rejects.toMatchObject({ code: 'BL_TFTP_ERROR', message: expect.stringMatching(/server error 1/) });
  });

  it("probes the size first like EDK2 (tsize, then error 8), then reads exactly that many bytes", async () => {
    events.length = 0;
    const chunks: Buffer[] = [];
    const r = await tftpGet({
      server: { address: '127.0.0.1', port },
      filename: 'nbp.efi',
      options: TFTP_CLIENT_PROFILES.edk2,
      sizeProbe: true,
      retryMs: 200,
      retries: 5,
      clock: new ScaledClock(1),
      onData: (c) => chunks.push(Buffer.from(c)),
    });
    expect(r.probedSize).toBe(data.length);
    expect(sha(Buffer.concat(chunks))).toBe(sha(data));
    const requests = events.filter((e) => e.type === 'tftp.request').map((e) => e.detail);
    expect(requests).toEqual(['tsize=0 blksize=1468 windowsize=4', 'blksize=1468 windowsize=4']);
    // The server reports the read done when the last ACK arrives, just after the client finished.
    for (let i = 0; i < 50 && events.filter((e) => e.type === 'tftp.done').length < 2; i++) await new Promise((res) => setTimeout(res, 10));
    expect(events.filter((e) => e.type === 'tftp.done').map((e) => e.detail ?? 'read')).toEqual([expect.stringMatching(/size probe/), expect.not.stringMatching(/size probe/)]);
  });

  it('stops a transfer the consumer refuses: rejects with its error and tells the server at once (error packet)', async () => {
    const refused = new Error('chunk 3 does not match');
    let blocks = 0;
    const before = events.length;
    await expect(
      tftpGet({
        server: { address: '127.0.0.1', port },
        filename: 'nbp.efi',
        options: TFTP_CLIENT_PROFILES.busybox,
        retryMs: 5,
        retries: 1000,
        clock: new ScaledClock(1),
        onData: () => {
          if (++blocks === 4) throw refused;
        },
      }),
    ).rejects.toBe(refused);
    expect(blocks).toBe(4);
    // The server ends the transfer on the client's error instead of retransmitting into silence.
    for (let i = 0; i < 100 && !events.slice(before).some((e) => e.type === 'tftp.failed'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(events.slice(before).find((e) => e.type === 'tftp.failed')?.detail).toMatch(/transfer stopped by the client/);
  });
});
