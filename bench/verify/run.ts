/**
 * Image verification speed: a signed installer of --mib MiB (256 by default) verified by
 * bootlab (streaming digest + CMS check, `verifyImageFile`) and by `openssl cms -verify`
 * over the same byte ranges SONiC's verifier uses, in one run; then the rate at which a
 * device hashes while it downloads (HTTP on loopback into the digester) against Node's raw
 * sha256 rate over the same bytes in memory (and the download alone, its ceiling). Prints
 * median (min–max) of the runs (interleaved: bootlab, openssl, bootlab, ...) and both ratios,
 * each taken run by run.
 *
 *   npm run bench:verify [-- --mib 256 --runs 3]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildImage } from '../../src/image/build.js';
import { signImage } from '../../src/image/sign.js';
import { downloadImage } from '../../src/net/http-image-client.js';
import { SignedImageDigester } from '../../src/trust/image-digester.js';
import { verifyImageFile } from '../../src/trust/image-verifier.js';
import { createTestPki } from '../../src/trust/test-pki.js';
import { machineLine, spread } from '../spread.js';
import { TrustStore } from '../../src/trust/trust-store.js';

const { values } = parseArgs({ options: { mib: { type: 'string', default: '256' }, runs: { type: 'string', default: '5' } } });
const mib = Number(values.mib);
const runs = Number(values.runs);
if (!(mib >= 1 && mib <= 4096) || !(runs >= 1 && runs <= 20)) throw new Error('--mib is 1..4096 and --runs 1..20');

const repo = new URL('../../', import.meta.url).pathname;

/** The port `bootlab serve` prints on its first line ("HTTP on 127.0.0.1:PORT"), within 10 s. */
async function serverPort(child: ChildProcess): Promise<number> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bootlab serve did not start: ${seen}`)), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      seen += d.toString();
      const m = /HTTP on 127\.0\.0\.1:(\d+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`bootlab serve exited ${code}: ${seen}`)));
  });
}

const seconds = async (f: () => Promise<unknown>): Promise<number> => {
  const t = performance.now();
  await f();
  return (performance.now() - t) / 1000;
};

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 600_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('openssl is not installed: apt-get install -y --no-install-recommends openssl');
  if (r.status !== 0) throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${r.stderr}`);
}

function curl(args: string[]): void {
  const r = spawnSync('curl', args, { encoding: 'utf8', timeout: 600_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('curl is not installed: apt-get install -y --no-install-recommends curl');
  if (r.status !== 0) throw new Error(`curl ${args.join(' ')} failed: ${r.stderr}`);
}

/** Copies bytes [start, end) of a file, streaming: SONiC's head/tail split of an image. */
async function copyRange(from: string, to: string, start: number, end?: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(to);
    createReadStream(from, { start, ...(end !== undefined ? { end: end - 1 } : {}) })
      .on('error', reject)
      .pipe(out)
      .on('finish', resolve)
      .on('error', reject);
  });
}

const dir = await mkdtemp(join(tmpdir(), 'bootlab-bench-verify-'));
try {
  const src = join(dir, 'src');
  await mkdir(src);
  await writeFile(join(src, 'install.sh'), '#!/bin/sh\necho bench\n', { mode: 0o755 });
  // Random content in 16 MiB pieces: a big file without holding it in memory.
  const payload = createWriteStream(join(src, 'rootfs.img'));
  for (let i = 0; i < Math.floor(mib / 16); i++) if (!payload.write(randomBytes(16 << 20))) await new Promise<void>((r) => payload.once('drain', () => r()));
  if (mib % 16) payload.write(randomBytes((mib % 16) << 20));
  await new Promise<void>((r) => payload.end(() => r()));
  const unsigned = join(dir, 'image.bin');
  const built = await buildImage(src, unsigned);
  const pki = createTestPki();
  const signed = join(dir, 'image.signed.bin');
  await signImage(unsigned, pki.vendorSigner, signed);
  const size = (await stat(signed)).size;
  const store = TrustStore.fromPem(pki.dbCa.certPem);
  await writeFile(join(dir, 'db.pem'), pki.dbCa.certPem);
  const signedEnd = built.size;
  await copyRange(signed, join(dir, 'data'), 0, signedEnd);
  await copyRange(signed, join(dir, 'sig.pem'), signedEnd);

  console.log(`bench/verify  ${machineLine(repo)}`);
  console.log(`${(size / 2 ** 20).toFixed(1)} MiB signed image, ${runs} interleaved runs, median (min–max)`);
  const ours: number[] = [];
  const theirs: number[] = [];
  // As `bootlab image verify` does it: no sha1 of the whole file, which only a TPM's sha1 bank needs.
  const bootlabVerify = async (): Promise<void> => {
    const v = await verifyImageFile(signed, store, { sha1: false });
    if (!v.ok) throw new Error(`bootlab refused the bench image: ${v.reason}: ${v.detail}`);
  };
  const opensslVerify = async (): Promise<void> =>
    openssl(['cms', '-verify', '-binary', '-inform', 'pem', '-in', join(dir, 'sig.pem'), '-content', join(dir, 'data'), '-CAfile', join(dir, 'db.pem'), '-purpose', 'any', '-no_check_time', '-out', '/dev/null']);
  // One untimed round each: page cache, JIT and the worker's first start are the same for every later run.
  await bootlabVerify();
  await opensslVerify();
  for (let i = 0; i < runs; i++) {
    ours.push(await seconds(bootlabVerify));
    theirs.push(await seconds(opensslVerify));
  }
  const rate = (xs: number[]): number[] => xs.map((x) => size / 2 ** 20 / x);
  console.log(`  bootlab verifyImageFile        ${spread(ours, 3)} s  (${spread(rate(ours), 0)} MiB/s)`);
  console.log(`  openssl cms -verify            ${spread(theirs, 3)} s  (${spread(rate(theirs), 0)} MiB/s)`);
  console.log(`  bootlab / openssl time         ${spread(ours.map((x, i) => x / theirs[i]!), 2)}×  (issue target ≤ 1.1×)`);

  // Hash while downloading: loopback HTTP from `bootlab serve` in its own process (as a
  // device sees a server) into the digester, against raw sha256 in memory; and the same
  // download without hashing, to show what the network path alone allows.
  const www = join(dir, 'www');
  await mkdir(www);
  await copyRange(signed, join(www, 'image.bin'), 0);
  const server = spawn('node', [join(repo, 'dist/cli/bin.js'), 'serve', '--bind', '127.0.0.1', '--http-root', www, '--http-port', '0', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const download: number[] = [];
  const plain: number[] = [];
  const curled: number[] = [];
  const raw: number[] = [];
  try {
    const port = await serverPort(server);
    const url = `http://127.0.0.1:${port}/image.bin`;
    for (let i = 0; i < runs; i++) {
      plain.push(await seconds(() => downloadImage(url, { headers: {}, to: join(dir, 'dl.bin'), timeoutMs: 30_000 })));
      curled.push(await seconds(async () => curl(['-sS', '-o', join(dir, 'curl.bin'), url])));
      download.push(
        await seconds(async () => {
          // What a device with only a sha256 PCR bank hashes: the file, and the payload's sha1 for ONIE's check.
          const digester = new SignedImageDigester({ sha1: false });
          await downloadImage(url, { headers: {}, to: join(dir, 'dl.bin'), onChunk: (c) => digester.write(c), timeoutMs: 30_000 });
          digester.finish();
        }),
      );
    }
  } finally {
    server.kill('SIGTERM');
  }
  // The raw rate: sha256 alone over the same bytes, already in memory (read in 64 MiB pieces).
  for (let i = 0; i < runs; i++) {
    const pieces: Buffer[] = [];
    for await (const c of createReadStream(signed, { highWaterMark: 64 << 20 })) pieces.push(c as Buffer);
    raw.push(
      await seconds(async () => {
        const h = createHash('sha256');
        for (const p of pieces) h.update(p);
        h.digest();
      }),
    );
  }
  /** Run i of xs over run i of raw sha256, as a rate ratio. */
  const toRaw = (xs: number[]): string => spread(xs.map((x, i) => raw[i]! / x), 2);
  console.log(`  download alone (HTTP, loopback)  ${spread(rate(plain), 0)} MiB/s  (${toRaw(plain)}× raw sha256: the ceiling for hashing while downloading)`);
  console.log(`  curl -o, same server (reference)  ${spread(rate(curled), 0)} MiB/s  (${toRaw(curled)}× raw sha256)`);
  console.log(`  download + hash (HTTP, loopback) ${spread(rate(download), 0)} MiB/s`);
  console.log(`  raw sha256 in memory             ${spread(rate(raw), 0)} MiB/s`);
  console.log(`  hash-while-download / raw        ${toRaw(download)}×  (issue target ≥ 0.8×)`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
