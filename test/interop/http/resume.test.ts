import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpImageServer, type HttpRequestEvent } from '../../../src/net/http-image-server.js';

const run = promisify(execFile);
const INSTALL: Record<string, string> = { curl: 'apt-get install curl', wget: 'apt-get install wget' };

/** Runs a peer; a missing one fails with the command that installs it. */
async function peer(cmd: string, args: string[]): Promise<void> {
  try {
    await run(cmd, args, { timeout: 20_000 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${cmd} is not installed: ${INSTALL[cmd]}`);
    throw e;
  }
}

describe('resumed downloads from the image server (issue 12)', () => {
  let dir: string;
  let server: HttpImageServer;
  let url: string;
  const events: HttpRequestEvent[] = [];
  const image = Buffer.from(Array.from({ length: 3_000_017 }, (_, i) => (i * 7 + (i >> 9)) & 0xff));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bootlab-http-resume-'));
    await writeFile(join(dir, 'onie-installer'), image);
    server = new HttpImageServer({ root: dir, bind: { address: '127.0.0.1', port: 0 } }, { onEvent: (e) => events.push(e) });
    url = `http://127.0.0.1:${(await server.start()).port}/onie-installer`;
  });

  afterAll(async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });

  for (const [name, args] of [
    ['curl', (out: string) => ['-sS', '-f', '-C', '-', '-o', out, url]],
    ['wget', (out: string) => ['-q', '-c', '-O', out, url]],
  ] as const) {
    it(`${name} finishes a partial download with one ranged request`, async () => {
      const out = join(dir, `${name}.part`);
      await writeFile(out, image.subarray(0, 1_234_567));
      events.length = 0;
      await peer(name, args(out));
      expect((await readFile(out)).equals(image)).toBe(true);
      expect(events).toEqual([expect.objectContaining({ status: 206, bytes: image.length - 1_234_567 })]);
    });
  }
});
