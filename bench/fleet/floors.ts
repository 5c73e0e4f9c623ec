/**
 * What the 100 × 48 MiB case cannot go below however fast bootlab's own code gets, measured
 * in the bench's run so the ratios survive a change of machine:
 * - the transport floor: the same number of devices fetch an installer of the same size
 *   from bootlab's HTTP server in one process, each over its own keep-alive agent into its
 *   own file, as devices do, with no hashing, no verification and no installer;
 * - the installer floor: the installer itself (the sharch self-extractor: sed to find the
 *   payload, sha1sum over it, sed again into tar) run once per device, as many at a time as
 *   there are cores.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { cp, mkdir, open, rm, stat } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Agent, request } from 'undici';
import { buildImage } from '../../src/image/build.js';
import { HttpImageServer } from '../../src/net/http-image-server.js';

/** An unsigned demo-nos installer with `mib` MiB of padding, like the scenario's; returns its path. */
export async function paddedInstaller(repo: string, dir: string, mib: number): Promise<string> {
  const src = join(dir, 'floor-src');
  await rm(src, { recursive: true, force: true });
  await cp(join(repo, 'images/demo-nos'), src, { recursive: true });
  const fh = await open(join(src, 'padding.bin'), 'wx');
  try {
    // Bytes that do not compress or repeat, as in the scenario's AES-CTR padding.
    const piece = Buffer.alloc(1 << 20);
    for (let i = 0; i < mib; i++) {
      for (let j = 0; j < piece.length; j += 4) piece.writeUInt32LE(Math.imul(i * piece.length + j, 2654435761) >>> 0, j);
      await fh.write(piece);
    }
  } finally {
    await fh.close();
  }
  await mkdir(join(dir, 'www'), { recursive: true });
  const out = join(dir, 'www', 'installer.bin');
  await buildImage(src, out);
  await rm(src, { recursive: true, force: true });
  return out;
}

/** Seconds for `devices` concurrent GETs of `image` (one agent and one file each), no hashing. */
export async function transportFloor(image: string, devices: number, dir: string): Promise<number> {
  const out = join(dir, 'floor-out');
  await mkdir(out, { recursive: true });
  const server = new HttpImageServer({ root: join(image, '..'), bind: { address: '127.0.0.1', port: 0 }, limits: { maxConnections: 2 * devices + 16, maxPerClient: 2 * devices + 16 } });
  const { port } = await server.start();
  const size = (await stat(image)).size;
  try {
    const t = performance.now();
    await Promise.all(
      Array.from({ length: devices }, async (_, i) => {
        const agent = new Agent({ connections: 2 });
        try {
          const res = await request(`http://127.0.0.1:${port}/installer.bin`, { dispatcher: agent });
          if (res.statusCode !== 200) throw new Error(`transport floor: HTTP ${res.statusCode}`);
          await pipeline(res.body, createWriteStream(join(out, String(i)), { highWaterMark: 1 << 20 }));
        } finally {
          await agent.destroy();
        }
      }),
    );
    const s = (performance.now() - t) / 1000;
    const got = (await stat(join(out, '0'))).size;
    if (got !== size) throw new Error(`transport floor: fetched ${got} of ${size} bytes`);
    return s;
  } finally {
    await server.stop();
    await rm(out, { recursive: true, force: true });
  }
}

/** Seconds to run `sh image -x` (check and extract the payload) `devices` times, one per core at a time. */
export async function installerFloor(image: string, devices: number, dir: string): Promise<number> {
  const work = join(dir, 'floor-extract');
  await mkdir(work, { recursive: true });
  let next = 0;
  const runOne = (i: number, tmp: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const child = spawn('sh', [image, '-x'], { env: { ...process.env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.resume();
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`installer floor: run ${i} exited ${code}: ${err.slice(-300)}`))));
    });
  try {
    const t = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(cpus().length, devices) }, async (_, lane) => {
        const tmp = join(work, String(lane));
        while (next < devices) {
          const i = next++;
          await mkdir(tmp, { recursive: true });
          await runOne(i, tmp);
          // Extracted trees are removed as they finish, as a device's sandbox is.
          await rm(tmp, { recursive: true, force: true });
        }
      }),
    );
    return (performance.now() - t) / 1000;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
