import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { BootlabError, DecodeError } from '../errors.js';
import type { SharchLayout } from '../protocol/sharch/layout.js';
import { UstarReader } from '../protocol/tar/ustar-reader.js';
import { USTAR_BLOCK, type UstarEntry } from '../protocol/tar/ustar.js';
import { readFileRange } from '../trust/file-range.js';

export interface ExtractOptions {
  /** Bytes all extracted files may add up to: a gzip payload can expand without bound. */
  maxBytes?: number;
  /** Bytes read from the image at a time (default 1 MiB); small values cut tar headers across reads. */
  readChunkBytes?: number;
}

export interface ExtractResult {
  dir: string;
  files: number;
  directories: number;
  bytes: number;
  /** The payload was a gzip-compressed tar. */
  gzip: boolean;
}

export const DEFAULT_MAX_EXTRACT_BYTES = 16 * 2 ** 30;

const TYPE_NAMES: Record<string, string> = { '1': 'a hard link', '2': 'a symbolic link', '3': 'a character device', '4': 'a block device', '6': 'a FIFO' };

/**
 * Unpacks an installer's payload (the tar after exit_marker, or a gzip of one) into `out`,
 * which must not exist: everything lands in a sibling temporary directory that is renamed
 * into place only when the whole archive unpacked and the payload still has the sha1 the
 * header declares (the file may have changed since it was verified). Only files and
 * directories are written, each strictly below `out`; links and devices are refused.
 */
export async function extractPayload(image: string, layout: SharchLayout, out: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_EXTRACT_BYTES;
  if (await stat(out).then(() => true, () => false)) throw new BootlabError('BL_IMAGE_EXTRACT', `${out} exists: extract writes a new directory and never merges into one`);
  const temp = join(dirname(out), `.${basename(out)}.partial-${process.pid}-${Date.now()}`);
  await mkdir(temp, { recursive: false });
  const result: ExtractResult = { dir: out, files: 0, directories: 0, bytes: 0, gzip: false };
  try {
    const start = layout.headerLength;
    const sha1 = createHash('sha1');
    let seen = 0;
    const head = await readFileRange(image, start, Math.min(2, layout.payloadSize));
    result.gzip = head.length === 2 && head[0] === 0x1f && head[1] === 0x8b;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        sha1.update(chunk);
        seen += chunk.length;
        done(null, chunk);
      },
    });
    const payload = layout.payloadSize > 0 ? createReadStream(image, { start, end: start + layout.payloadSize - 1, highWaterMark: opts.readChunkBytes ?? 1 << 20 }) : Readable.from([]);
    const sink = new TarSink(temp, maxBytes, result, tarOffsetText(start, result.gzip));
    if (result.gzip) await pipeline(payload, tap, createGunzip(), sink);
    else await pipeline(payload, tap, sink);
    if (seen !== layout.payloadSize) throw new BootlabError('BL_IMAGE_EXTRACT', `${image}: payload is ${seen} bytes, the header declares ${layout.payloadSize}`);
    const actual = sha1.digest('hex');
    if (actual !== layout.payloadSha1) throw new BootlabError('BL_IMAGE_EXTRACT', `${image}: payload sha1 is ${actual}, the header says ${layout.payloadSha1} (did the file change after it was verified?)`);
    await rename(temp, out);
    return result;
  } catch (e) {
    await rm(temp, { recursive: true, force: true });
    if (e instanceof DecodeError) {
      throw new BootlabError('BL_IMAGE_EXTRACT', `${image}: payload ${result.gzip ? '(after gunzip) ' : ''}is not a tar: ${e.message} (${tarOffsetText(layout.headerLength, result.gzip)(e.offset)})`);
    }
    throw e;
  }
}

/**
 * Names a tar-stream offset so a user can find it: in a plain payload the tar starts
 * right after the sharch header, so the image offset is given too; a gzip payload's tar
 * exists only after gunzip, where the offset is all there is.
 */
function tarOffsetText(payloadStart: number, gzip: boolean): (offset: number) => string {
  return gzip ? (offset) => `offset ${offset} of the gunzipped tar` : (offset) => `tar offset ${offset}, image offset ${payloadStart + offset}`;
}

/** Writes a tar stream's files and directories below `root`. */
class TarSink extends Writable {
  private readonly reader = new UstarReader();
  private file: { handle: FileHandle; entry: UstarEntry; mode: number } | undefined;

  constructor(
    private readonly root: string,
    private readonly maxBytes: number,
    private readonly result: ExtractResult,
    private readonly offsetText: (offset: number) => string,
  ) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.consume(chunk).then(() => done(), done);
  }

  override _final(done: (e?: Error | null) => void): void {
    try {
      this.reader.finish();
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  override _destroy(e: Error | null, done: (e?: Error | null) => void): void {
    const open = this.file;
    this.file = undefined;
    if (!open) return done(e);
    open.handle.close().then(() => done(e), () => done(e));
  }

  private async consume(chunk: Buffer): Promise<void> {
    // Data events are views of `chunk`, so each is written before the next push.
    for (const ev of this.reader.push(chunk)) {
      if (ev.kind === 'entry') await this.beginEntry(ev.entry);
      else if (ev.kind === 'data') await this.data(ev.bytes);
      else if (ev.kind === 'entry-end') await this.endEntry();
    }
  }

  private async beginEntry(entry: UstarEntry): Promise<void> {
    // entry.offset is where its data starts; the entry is named by its header, one block before.
    const where = `entry "${entry.name}" (${this.offsetText(entry.offset - USTAR_BLOCK)})`;
    if (entry.type === 'other') throw new BootlabError('BL_IMAGE_EXTRACT', `${where} is ${TYPE_NAMES[entry.typeflag] ?? `of type '${entry.typeflag}'`}: only files and directories are extracted`);
    const parts = entry.name.split('/').filter((p) => p !== '' && p !== '.');
    if (entry.name.startsWith('/') || parts.includes('..') || parts.length === 0) {
      throw new BootlabError('BL_IMAGE_EXTRACT', `${where}: the path leaves the extraction directory (absolute, empty or with "..")`);
    }
    const path = join(this.root, ...parts);
    if (entry.type === 'dir') {
      await mkdir(path, { recursive: true, mode: 0o755 });
      this.result.directories++;
      return;
    }
    this.result.bytes += entry.size;
    if (this.result.bytes > this.maxBytes) throw new BootlabError('BL_IMAGE_EXTRACT', `${where}: the files add up to more than ${this.maxBytes} bytes`);
    await mkdir(dirname(path), { recursive: true, mode: 0o755 });
    const handle = await open(path, 'wx', 0o600).catch((e: NodeJS.ErrnoException) => {
      throw new BootlabError('BL_IMAGE_EXTRACT', `${where}: ${e.code === 'EEXIST' ? 'the archive holds this path twice' : e.message}`);
    });
    // Permission bits only: no set-id or sticky bits from an archive.
    this.file = { handle, entry, mode: entry.mode & 0o777 };
    this.result.files++;
  }

  private async data(bytes: Buffer): Promise<void> {
    if (!this.file) return;
    for (let at = 0; at < bytes.length; ) at += (await this.file.handle.write(bytes, at)).bytesWritten;
  }

  private async endEntry(): Promise<void> {
    const f = this.file;
    if (!f) return;
    this.file = undefined;
    await f.handle.chmod(f.mode);
    await f.handle.close();
  }
}
