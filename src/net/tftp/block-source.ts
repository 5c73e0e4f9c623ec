import { TftpOpcode } from '../../protocol/tftp/packet.js';
import type { ReadAheadBudget } from './read-ahead-budget.js';
import type { SharedFile } from './shared-files.js';

/**
 * What a read transfer sends: DATA datagram n (1-based) of a fixed-size body, ready to go.
 * `packet` answers synchronously when the bytes are at hand, so the send path does no I/O
 * and no copying per block; `load` fetches what `packet` could not give.
 */
export interface BlockSource {
  readonly size: number;
  /** DATA block n, header included (a body that is a multiple of blksize ends on an empty block); undefined until loaded. */
  packet(n: number): Uint8Array | undefined;
  load(n: number): Promise<void>;
  close(): Promise<void>;
}

/** Lays blocks out as DATA datagrams: each block's 4-byte header right before its bytes. */
function layOut(body: Uint8Array, first: number, last: number, blksize: number): Buffer {
  const slab = Buffer.allocUnsafe(body.length + 4 * (last - first + 1));
  let at = 0;
  for (let n = first; n <= last; n++) {
    const off = (n - first) * blksize;
    const part = body.subarray(Math.min(off, body.length), Math.min(off + blksize, body.length));
    slab[at] = 0;
    slab[at + 1] = TftpOpcode.DATA;
    slab.writeUInt16BE(n & 0xffff, at + 2);
    slab.set(part, at + 4);
    at += 4 + part.length;
  }
  return slab;
}

/** The block that ends a body: the first one shorter than blksize, possibly empty. */
function lastBlockOf(size: number, blksize: number): number {
  return Math.floor(size / blksize) + 1;
}

/** Generated content (a per-client hook's answer): all in memory already, laid out once. */
export class BytesSource implements BlockSource {
  readonly size: number;
  private readonly slab: Buffer;
  private readonly lastBlock: number;

  constructor(
    bytes: Uint8Array,
    private readonly blksize: number,
  ) {
    this.size = bytes.length;
    this.lastBlock = lastBlockOf(bytes.length, blksize);
    this.slab = layOut(bytes, 1, this.lastBlock, blksize);
  }

  packet(n: number): Uint8Array {
    if (n < 1 || n > this.lastBlock) throw new RangeError(`block ${n} is outside 1..${this.lastBlock}`);
    const start = (n - 1) * (this.blksize + 4);
    return this.slab.subarray(start, Math.min(start + 4 + this.blksize, this.slab.length));
  }

  async load(): Promise<void> {}

  async close(): Promise<void> {}
}

/** Read size per file read: large enough that reads are rare, small enough per transfer. */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;

/**
 * A file read in chunks of whole blocks, each chunk laid out as ready DATA datagrams. The
 * file is opened (a shared handle) only when the first block is due, and the first chunk
 * is only the first window: a request that is never acknowledged costs one window of
 * memory, not a chunk and its read-ahead. Later chunks are `chunkBytes` and the next one
 * is read ahead while the shared budget allows. The chunk before the current one is kept,
 * because a window that straddles a chunk boundary may have to be sent again. A file
 * that shrinks while it is served fails the transfer instead of sending zeros.
 */
export class FileBlockSource implements BlockSource {
  private readonly firstBlocks: number;
  private readonly chunkBlocks: number;
  private readonly lastBlock: number;
  private readonly chunks = new Map<number, { slab?: Buffer; bytes: number; loading: Promise<void> }>();
  private file: Promise<SharedFile> | undefined;
  private closed = false;

  constructor(
    private readonly openFile: () => Promise<SharedFile>,
    readonly size: number,
    private readonly blksize: number,
    windowsize: number,
    private readonly budget: ReadAheadBudget,
    chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {
    this.firstBlocks = windowsize;
    this.chunkBlocks = Math.max(2 * windowsize, Math.ceil(chunkBytes / blksize));
    this.lastBlock = lastBlockOf(size, blksize);
  }

  packet(n: number): Uint8Array | undefined {
    if (n > this.lastBlock) throw new RangeError(`block ${n} is past the end of the file`);
    const c = this.chunkOf(n);
    const slab = this.chunks.get(c)?.slab;
    if (!slab) return undefined;
    const start = (n - this.firstOf(c)) * (this.blksize + 4);
    return slab.subarray(start, Math.min(start + 4 + this.blksize, slab.length));
  }

  async load(n: number): Promise<void> {
    const c = this.chunkOf(n);
    for (const [key, chunk] of this.chunks) {
      if (key >= c - 1) continue;
      this.chunks.delete(key);
      this.budget.give(chunk.bytes);
    }
    const loading = this.read(c, false);
    // Read ahead (within the budget) so that the next chunk is in memory before the
    // sender reaches it; not from the first chunk, whose window may never be acknowledged.
    if (c > 0 && this.firstOf(c + 1) <= this.lastBlock) void this.read(c + 1, true)?.catch(() => undefined);
    await loading;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const chunk of this.chunks.values()) this.budget.give(chunk.bytes);
    this.chunks.clear();
    const file = this.file;
    this.file = undefined;
    await file?.then((f) => f.release()).catch(() => undefined);
  }

  private chunkOf(n: number): number {
    return n <= this.firstBlocks ? 0 : 1 + Math.floor((n - 1 - this.firstBlocks) / this.chunkBlocks);
  }

  private firstOf(c: number): number {
    return c === 0 ? 1 : this.firstBlocks + (c - 1) * this.chunkBlocks + 1;
  }

  private read(c: number, ahead: true): Promise<void> | undefined;
  private read(c: number, ahead: false): Promise<void>;
  private read(c: number, ahead: boolean): Promise<void> | undefined {
    const have = this.chunks.get(c);
    if (have) return have.loading;
    const first = this.firstOf(c);
    const last = Math.min(this.firstOf(c + 1) - 1, this.lastBlock);
    const offset = (first - 1) * this.blksize;
    const length = Math.max(0, Math.min((last - first + 1) * this.blksize, this.size - offset));
    const bytes = length + 4 * (last - first + 1);
    if (ahead) {
      if (!this.budget.tryTake(bytes)) return undefined;
    } else this.budget.take(bytes);
    const entry: { slab?: Buffer; bytes: number; loading: Promise<void> } = { bytes, loading: Promise.resolve() };
    entry.loading = (async () => {
      try {
        if (this.closed) throw new Error('transfer ended');
        this.file ??= this.openFile();
        const { fh, size } = await this.file;
        // The size went out in the OACK (tsize) and fixes the last block: another file
        // under the name by now must not be served as this one.
        if (size !== this.size) throw new Error(`file changed from ${this.size} to ${size} bytes before it was served`);
        const body = Buffer.allocUnsafe(length);
        let got = 0;
        while (got < length) {
          const { bytesRead } = await fh.read(body, got, length - got, offset + got);
          if (bytesRead === 0) throw new Error(`file ended at ${offset + got} of ${this.size} bytes while being served`);
          got += bytesRead;
        }
        if (this.closed) throw new Error('transfer ended');
        entry.slab = layOut(body, first, last, this.blksize);
      } catch (e) {
        if (this.chunks.get(c) === entry) {
          this.chunks.delete(c);
          this.budget.give(bytes);
        }
        throw e;
      }
    })();
    this.chunks.set(c, entry);
    return entry.loading;
  }
}
