import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TftpServer } from '../../../src/net/tftp/server.js';

const run = promisify(execFile);
let dir: string;
let server: TftpServer;
let port: number;
const data = randomBytes(5 * 1024 * 1024 + 3);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  try {
    await run('curl', ['--version'], { timeout: 10_000 });
  } catch (e) {
    throw new Error(`curl is not on PATH: apt-get install -y --no-install-recommends curl (${(e as Error).message})`);
  }
  dir = await mkdtemp(join(tmpdir(), 'bootlab-tftp-curl-'));
  await writeFile(join(dir, 'image.bin'), data);
  server = new TftpServer({ root: dir, bind: { address: '127.0.0.1', port: 0 } });
  port = (await server.start()).port;
});

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('busybox tftp against the bootlab TFTP server', () => {
  it('fetches byte-exact at its 512-byte blocks (no options, as ONIE runs it)', async () => {
    try {
      await run('busybox', ['--list'], { timeout: 10_000 });
    } catch (e) {
      throw new Error(`busybox is not on PATH: apt-get install -y --no-install-recommends busybox (${(e as Error).message})`);
    }
    const out = join(dir, 'busybox.bin');
    await run('busybox', ['tftp', '-g', '-r', 'image.bin', '-l', out, '127.0.0.1', String(port)], { timeout: 120_000 });
    expect(sha(await readFile(out))).toBe(sha(data));
  });
});

describe('curl (tftp://) against the bootlab TFTP server', () => {
  for (const extra of [[], ['--tftp-blksize', '1468']]) {
    it(`fetches byte-exact ${extra.length ? 'with --tftp-blksize 1468' : 'at the default 512-byte blocks'}`, async () => {
      const out = join(dir, `out-${extra.length}.bin`);
      await run('curl', ['-sS', '--fail', ...extra, '-o', out, `tftp://127.0.0.1:${port}/image.bin`], { timeout: 60_000 });
      expect(sha(await readFile(out))).toBe(sha(data));
    });
  }
});
