import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = new URL('../../', import.meta.url).pathname;
const FD_LIMIT = 1024;

/** A GET from `from`; resolves with the status (0: no answer) and the body length, or the error code. */
function get(port: number, path: string, from: string): Promise<{ status: number; bytes: number } | { error: string }> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: from }, () => s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    const chunks: Buffer[] = [];
    s.setTimeout(15_000, () => s.destroy(new Error('ETIMEDOUT')));
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    s.on('close', () => {
      const all = Buffer.concat(chunks);
      const head = all.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(all.toString('latin1'))?.[1] ?? 0), bytes: head < 0 ? 0 : all.length - head - 4 });
    });
  });
}

describe(`HttpImageServer under a flood at a ${FD_LIMIT}-file limit, default budgets (issue 12)`, () => {
  let dir: string;
  let child: ChildProcess;
  let port: number;
  const attackers: Socket[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bootlab-http-flood-'));
    await writeFile(join(dir, 'onie-installer'), Buffer.alloc(200_000, 0x42));
    child = spawn('prlimit', [`--nofile=${FD_LIMIT}:${FD_LIMIT}`, '--', process.execPath, '--import', 'tsx', join(repo, 'test/fixtures/http/limited-server.ts'), dir], {
      cwd: repo,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    port = await new Promise<number>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d) => {
        out += String(d);
        if (out.includes('\n')) resolve(Number(out.trim()));
      });
      child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${out}`)));
    });
  }, 60_000);

  afterAll(async () => {
    for (const s of attackers) s.destroy();
    child?.stdin?.end();
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    await rm(dir, { recursive: true, force: true });
  });

  it('12: serves a legitimate GET while 1,200 peers from 40 addresses hold connections open (half of them answered 400 and half-open)', async () => {
    for (let a = 0; a < 40; a++) {
      for (let i = 0; i < 30; i++) {
        const s = connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${10 + a}`, allowHalfOpen: true });
        s.on('error', () => {});
        attackers.push(s);
        await new Promise<void>((r) => {
          s.once('connect', () => r());
          s.once('error', () => r());
        });
        // Garbage draws a 400, after which a peer that never closes used to keep the socket.
        if (i % 2 === 0) s.write('\x00\x01 NOT HTTP\r\n\r\n');
      }
    }
    const got = await get(port, '/onie-installer', '127.0.0.3');
    expect(got).toEqual({ status: 200, bytes: 200_000 });
    expect(child.exitCode).toBeNull();
  }, 120_000);
});
