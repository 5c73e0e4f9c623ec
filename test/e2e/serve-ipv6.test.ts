import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import { tftpGet } from '../../src/net/tftp/client.js';

const repo = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);
let child: ChildProcess | undefined;

afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

function serve(args: string[]): Promise<string> {
  child = spawn('node', [join(repo, 'dist/cli/bin.js'), 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 10_000);
    createInterface({ input: child!.stdout! }).on('line', (line) => {
      if (!line.startsWith('bootlab serve: ')) return;
      clearTimeout(timer);
      resolve(line);
    });
    child!.once('close', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

describe('bootlab serve on IPv6 (issue 13)', () => {
  it('13: --bind6 serves HTTP and TFTP on IPv6 beside IPv4, on the same ports', async () => {
    const first = await serve(['--bind', '127.0.0.1', '--bind6', '::1', '--http-root', join(repo, 'images'), '--http-port', '0', '--tftp-root', join(repo, 'images'), '--tftp-port', '0']);
    const httpPort = Number(/HTTP on \[::1\]:(\d+)/.exec(first)?.[1]);
    const tftpPort = Number(/TFTP on \[::1\]:(\d+)/.exec(first)?.[1]);
    expect(first).toContain(`HTTP on 127.0.0.1:${httpPort}`);
    expect(first).toContain(`TFTP on 127.0.0.1:${tftpPort}`);
    const file = 'README.md';
    const expected = await readFile(join(repo, 'images', file));
    // curl -g: the brackets are an IPv6 literal, not a URL glob.
    const http = await run('curl', ['-sSfg', '--max-time', '10', `http://[::1]:${httpPort}/${file}`], { encoding: 'buffer' });
    expect(Buffer.compare(http.stdout, expected)).toBe(0);
    const tftp = await run('curl', ['-sSfg', '--max-time', '10', `tftp://[::1]:${tftpPort}/${file}`], { encoding: 'buffer' });
    expect(Buffer.compare(tftp.stdout, expected)).toBe(0);
    // bootlab's own TFTP client over IPv6, with options (a transfer socket of its own on ::1).
    const chunks: Uint8Array[] = [];
    await tftpGet({ server: { address: '::1', port: tftpPort }, filename: file, options: [{ name: 'blksize', value: '1024' }], retryMs: 2000, retries: 3, clock: new ScaledClock(1), onData: (c) => chunks.push(c) });
    expect(Buffer.compare(Buffer.concat(chunks), expected)).toBe(0);
  });

  it('refuses --bind6 that is not an IPv6 address, in one line', async () => {
    await expect(serve(['--bind6', '127.0.0.1', '--http-root', repo, '--http-port', '0'])).rejects.toThrow(/--bind6 127.0.0.1: expected an IPv6 address/);
  });
});
