import type { FileHandle } from 'node:fs/promises';
import { TftpOpcode } from '../../protocol/tftp/packet.js';

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
const CHUNK_BYTES = 256 * 1024;

/**
 * A file read in chunks of whole blocks, one chunk ahead of the sender, each chunk laid
 * out as ready DATA datagrams. The chunk before the current one is kept, because a
 * window that straddles a chunk boundary may have to be sent again. A file that shrinks
 * while it is served fails the transfer instead of sending zeros.
 */
export class FileBlockSource implements BlockSource {
  private readonly chunkBlocks: number;
  private readonly lastBlock: number;
  private readonly chunks = new Map<number, { slab?: Buffer; loading: Promise<void> }>();

  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
    private readonly blksize: number,
    windowsize: number,
  ) {
    this.chunkBlocks = Math.max(2 * windowsize, Math.ceil(CHUNK_BYTES / blksize));
    this.lastBlock = lastBlockOf(size, blksize);
  }

  packet(n: number): Uint8Array | undefined {
    const c = this.chunkOf(n);
    const slab = this.chunks.get(c)?.slab;
    if (!slab) return undefined;
    const start = (n - 1 - c * this.chunkBlocks) * (this.blksize + 4);
    if (n > this.lastBlock) throw new RangeError(`block ${n} is past the end of the file`);
    return slab.subarray(start, Math.min(start + 4 + this.blksize, slab.length));
  }

  async load(n: number): Promise<void> {
    const c = this.chunkOf(n);
    for (const key of this.chunks.keys()) if (key < c - 1) this.chunks.delete(key);
    const loading = this.read(c);
    // Read ahead so that the next chunk is in memory before the sender reaches it.
    if ((c + 1) * this.chunkBlocks < this.lastBlock) void this.read(c + 1).catch(() => undefined);
    await loading;
  }

  async close(): Promise<void> {
    this.chunks.clear();
    await this.fh.close().catch(() => undefined);
  }

  private chunkOf(n: number): number {
    return Math.floor((n - 1) / this.chunkBlocks);
  }

  private read(c: number): Promise<void> {
    const have = this.chunks.get(c);
    if (have) return have.loading;
    const first = c * this.chunkBlocks + 1;
    const last = Math.min(first + this.chunkBlocks - 1, this.lastBlock);
    const offset = (first - 1) * this.blksize;
    const length = Math.max(0, Math.min(this.chunkBlocks * this.blksize, this.size - offset));
    const entry: { slab?: Buffer; loading: Promise<void> } = { loading: Promise.resolve() };
    entry.loading = (async () => {
      const body = Buffer.allocUnsafe(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await this.fh.read(body, got, length - got, offset + got);
        if (bytesRead === 0) {
          this.chunks.delete(c);
          throw new Error(`file ended at ${offset + got} of ${this.size} bytes while being served`);
        }
        got += bytesRead;
      }
      entry.slab = layOut(body, first, last, this.blksize);
    })();
    this.chunks.set(c, entry);
    return entry.loading;
  }
}
