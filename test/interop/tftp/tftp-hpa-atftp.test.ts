import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TftpServer, type TftpServerEvent } from '../../../src/net/tftp/server.js';

const run = promisify(execFile);
let dir: string;
let server: TftpServer;
let port: number;
const events: TftpServerEvent[] = [];
// Neither size is a multiple of 512; the second is an exact multiple of 1468, so at
// blksize 1468 it ends on an empty block.
const files = { 'nos.bin': randomBytes(5 * 1024 * 1024 + 7), 'exact.bin': randomBytes(1468 * 2000) };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function requireTool(argv: string[], pkg: string): Promise<void> {
  try {
    await run(argv[0]!, argv.slice(1), { timeout: 10_000 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new Error(`${argv[0]} is not on PATH: apt-get install -y --no-install-recommends ${pkg}`);
  }
}

beforeAll(async () => {
  await requireTool(['tftp', '-V'], 'tftp-hpa');
  await requireTool(['atftp', '--version'], 'atftp');
  dir = await mkdtemp(join(tmpdir(), 'bootlab-tftp-hpa-atftp-'));
  await mkdir(join(dir, 'root'));
  await mkdir(join(dir, 'uploads'));
  await mkdir(join(dir, 'out'));
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, 'root', name), data);
  server = new TftpServer({ root: join(dir, 'root'), bind: { address: '127.0.0.1', port: 0 }, write: { dir: join(dir, 'uploads') } }, { onEvent: (e) => events.push(e) });
  port = (await server.start()).port;
});

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The option list the server logged for the last request of `file`. */
const requested = (file: string): string | undefined => events.filter((e) => e.type === 'tftp.request' && e.file === file).at(-1)?.detail;

describe('tftp-hpa against the bootlab TFTP server', () => {
  it('gets byte-exact (512-byte lock-step: tftp-hpa sends no options)', async () => {
    const out = join(dir, 'out', 'hpa.bin');
    await run('tftp', ['-m', 'binary', '127.0.0.1', String(port), '-c', 'get', 'nos.bin', out], { timeout: 120_000 });
    expect(sha(await readFile(out))).toBe(sha(files['nos.bin']));
    expect(requested('nos.bin')).toBe('');
  });

  it('puts into the write directory, and a second put of the same name is refused (error 6)', async () => {
    await run('tftp', ['-m', 'binary', '127.0.0.1', String(port), '-c', 'put', join(dir, 'root', 'exact.bin'), 'from-hpa.bin'], { timeout: 60_000 });
    expect(sha(await readFile(join(dir, 'uploads', 'from-hpa.bin')))).toBe(sha(files['exact.bin']));
    // tftp-hpa prints the server's error but exits 0; the file must be unchanged.
    const again = await run('tftp', ['-m', 'binary', '127.0.0.1', String(port), '-c', 'put', join(dir, 'root', 'nos.bin'), 'from-hpa.bin'], { timeout: 60_000 });
    expect(again.stdout + again.stderr).toMatch(/Error code 6/);
    expect(sha(await readFile(join(dir, 'uploads', 'from-hpa.bin')))).toBe(sha(files['exact.bin']));
  });
});

describe('atftp against the bootlab TFTP server', () => {
  const settings: Array<{ name: string; options: string[]; expectDetail: string }> = [
    { name: 'default 512-byte blocks', options: [], expectDetail: '' },
    { name: 'blksize 1468', options: ['--option', 'blksize 1468'], expectDetail: 'blksize=1468' },
    { name: 'blksize 1468 and windowsize 8', options: ['--option', 'blksize 1468', '--option', 'windowsize 8'], expectDetail: 'blksize=1468 windowsize=8' },
  ];
  for (const s of settings) {
    it(`gets byte-exact with ${s.name}`, async () => {
      for (const name of ['nos.bin', 'exact.bin'] as const) {
        const out = join(dir, 'out', `atftp-${s.options.length}-${name}`);
        await run('atftp', [...s.options, '--get', '-r', name, '-l', out, '127.0.0.1', String(port)], { timeout: 120_000 });
        expect(sha(await readFile(out))).toBe(sha(files[name]));
        expect(requested(name)).toBe(s.expectDetail);
      }
    });
  }

  it('puts with blksize 1468 and windowsize 8 into the write directory', async () => {
    await run('atftp', ['--option', 'blksize 1468', '--option', 'windowsize 8', '--put', '-l', join(dir, 'root', 'nos.bin'), '-r', 'from-atftp.bin', '127.0.0.1', String(port)], {
      timeout: 120_000,
    });
    expect(sha(await readFile(join(dir, 'uploads', 'from-atftp.bin')))).toBe(sha(files['nos.bin']));
    expect(requested('from-atftp.bin')).toBe('write blksize=1468 windowsize=8');
  });
});
