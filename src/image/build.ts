import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { BootlabError } from '../errors.js';
import { writeFileAtomically } from './atomic-file.js';
import { renderSharchHeader } from '../protocol/sharch/layout.js';
import { encodeUstarHeader, ustarEnd, ustarEntryLength, ustarPadding, type UstarType } from '../protocol/tar/ustar.js';

export interface BuildImageOptions {
  /** mtime of every tar entry, seconds since the epoch. Default 0, so a build is reproducible. */
  mtime?: number;
  /** An ONIE updater (ONIE-UPDATER-COOKIE in the header) rather than a NOS installer. */
  updater?: boolean;
}

export interface BuiltImage {
  path: string;
  size: number;
  payloadSha1: string;
  payloadSize: number;
}

interface SourceEntry {
  /** Path inside the tar, under installer/. */
  name: string;
  /** Path on disk (undefined for the synthetic installer/ directory). */
  source: string;
  type: UstarType;
  mode: number;
  size: number;
}

const TOP = 'installer';

/**
 * Builds an ONIE self-extracting installer from `dir` (which must hold install.sh): the
 * payload is an uncompressed tar of `installer/` with dir's files, sorted so that the same
 * source gives the same bytes. The tar is generated twice (once to learn its sha1 for the
 * header, once to write it), streaming file contents both times.
 */
export async function buildImage(dir: string, out: string, opts: BuildImageOptions = {}): Promise<BuiltImage> {
  const mtime = opts.mtime ?? 0;
  const installSh = join(dir, 'install.sh');
  const st = await lstat(installSh).catch(() => undefined);
  if (!st?.isFile()) throw new BootlabError('BL_IMAGE_SOURCE', `${installSh}: missing (an installer source directory needs an install.sh file)`);

  const entries: SourceEntry[] = [{ name: `${TOP}/`, source: dir, type: 'dir', mode: 0o755, size: 0 }];
  await collect(dir, TOP, entries);
  const payloadSize = entries.reduce((n, e) => n + (e.type === 'file' ? ustarEntryLength(e.size) : ustarEntryLength(0)), 0) + ustarEnd().length;

  const sha1 = createHash('sha1');
  let hashed = 0;
  await writeTar(entries, mtime, async (chunk) => {
    sha1.update(chunk);
    hashed += chunk.length;
  });
  if (hashed !== payloadSize) throw new BootlabError('BL_IMAGE_SOURCE', `${dir}: tar came out ${hashed} bytes, expected ${payloadSize}`);
  const payloadSha1 = sha1.digest('hex');
  const header = renderSharchHeader({ payloadSha1, payloadSize, updaterCookie: opts.updater === true });

  await writeFileAtomically(out, 0o755, async (append) => {
    await append(header);
    const check: Hash = createHash('sha1');
    await writeTar(entries, mtime, async (chunk) => {
      check.update(chunk);
      await append(chunk);
    });
    if (check.digest('hex') !== payloadSha1) {
      throw new BootlabError('BL_IMAGE_SOURCE', `${dir}: a file changed while the image was being built`);
    }
  });
  return { path: out, size: header.length + payloadSize, payloadSha1, payloadSize };
}

async function collect(dir: string, prefix: string, into: SourceEntry[]): Promise<void> {
  const names = (await readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    const source = join(dir, name);
    const st = await lstat(source);
    const inTar = `${prefix}/${name}`;
    if (st.isDirectory()) {
      into.push({ name: `${inTar}/`, source, type: 'dir', mode: st.mode & 0o7777, size: 0 });
      await collect(source, inTar, into);
    } else if (st.isFile()) {
      const mode = inTar === `${TOP}/install.sh` ? 0o755 : st.mode & 0o7777;
      into.push({ name: inTar, source, type: 'file', mode, size: st.size });
    } else {
      throw new BootlabError('BL_IMAGE_SOURCE', `${source}: only regular files and directories can go into an image`);
    }
  }
}

async function writeTar(entries: SourceEntry[], mtime: number, sink: (chunk: Buffer) => Promise<void>): Promise<void> {
  for (const e of entries) {
    await sink(encodeUstarHeader({ name: e.name, size: e.size, mode: e.mode, mtime, type: e.type }));
    if (e.type !== 'file') continue;
    let copied = 0;
    if (e.size > 0) {
      for await (const chunk of createReadStream(e.source, { start: 0, end: e.size - 1 })) {
        const b = chunk as Buffer;
        copied += b.length;
        await sink(b);
      }
    }
    if (copied !== e.size) throw new BootlabError('BL_IMAGE_SOURCE', `${e.source}: shrank from ${e.size} to ${copied} bytes while the image was being built`);
    const pad = ustarPadding(e.size);
    if (pad.length > 0) await sink(pad);
  }
  await sink(ustarEnd());
}
