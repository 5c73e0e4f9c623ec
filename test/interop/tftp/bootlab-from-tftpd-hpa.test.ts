import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../../src/clock.js';
import { tftpGet, TFTP_CLIENT_PROFILES } from '../../../src/net/tftp/client.js';

let dir: string;
let tftpd: ChildProcess | undefined;
let port: number;
const data = randomBytes(3 * 1024 * 1024 + 13);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A UDP port nobody uses right now (bound, read, released). */
async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const p = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return p;
}

async function get(profile: keyof typeof TFTP_CLIENT_PROFILES, extra: { sizeProbe?: boolean; retries?: number } = {}) {
  const hash = createHash('sha256');
  const r = await tftpGet({
    server: { address: '127.0.0.1', port },
    filename: 'nbp.efi',
    options: TFTP_CLIENT_PROFILES[profile],
    retryMs: 200,
    retries: extra.retries ?? 10,
    clock: new ScaledClock(1),
    onData: (c) => hash.update(c),
    ...(extra.sizeProbe ? { sizeProbe: true } : {}),
  });
  return { ...r, sha: hash.digest('hex') };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-tftpd-hpa-'));
  await writeFile(join(dir, 'nbp.efi'), data);
  // in.tftpd drops root for an unprivileged user, who must be able to read the file.
  await chmod(dir, 0o755);
  await chmod(join(dir, 'nbp.efi'), 0o644);
  port = await freePort();
  const child = spawn('in.tftpd', ['-L', '-a', `127.0.0.1:${port}`, '-s', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  tftpd = child;
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('error', resolve);
    child.once('spawn', () => resolve(undefined));
  });
  if (spawned) throw new Error(`in.tftpd did not start (${spawned.message}): apt-get install -y --no-install-recommends tftpd-hpa`);
  // Ready when it answers: a few short tries, bounded in count and time.
  let lastError: unknown;
  for (let i = 0; i < 25; i++) {
    try {
      await tftpGet({ server: { address: '127.0.0.1', port }, filename: 'nbp.efi', retryMs: 100, retries: 1, clock: new ScaledClock(1), onData: () => undefined });
      return;
    } catch (e) {
      lastError = e;
      if (child.exitCode !== null) break;
    }
  }
  throw new Error(`in.tftpd on 127.0.0.1:${port} never answered (exit ${child.exitCode}): ${String(lastError)}`);
}, 30_000);

afterAll(async () => {
  tftpd?.kill('SIGTERM');
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("bootlab's TFTP client against tftpd-hpa", () => {
  it('reads byte-exact like busybox (512-byte lock-step, no options)', async () => {
    const r = await get('busybox');
    expect(r.granted).toEqual([]);
    expect(r.bytes).toBe(data.length);
    expect(r.sha).toBe(sha(data));
  });

  it('reads byte-exact like EDK2: tsize probe aborted with error 8, then blksize 1468 (tftpd-hpa ignores windowsize)', async () => {
    const r = await get('edk2', { sizeProbe: true });
    expect(r.probedSize).toBe(data.length);
    expect(r.granted).toEqual([{ name: 'blksize', value: '1468' }]);
    expect(r.sha).toBe(sha(data));
  });

  it('reads byte-exact like iPXE (blksize 1432)', async () => {
    const r = await get('ipxe');
    expect(r.granted).toEqual([{ name: 'blksize', value: '1432' }]);
    expect(r.sha).toBe(sha(data));
  });
});
