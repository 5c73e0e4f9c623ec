import { createHash, type Hash } from 'node:crypto';
import { MERKLE_LEAF_PREFIX } from './manifest.js';

/**
 * Cuts a stream of any chunking into fixed-size chunks and hands over each chunk's leaf
 * hash the moment its last byte arrives (the last, shorter chunk on end()). Holds no bytes.
 */
export class LeafHasher {
  private hash: Hash = newLeaf();
  private inChunk = 0;
  private index = 0;
  private total = 0;

  constructor(
    private readonly chunkSize: number,
    private readonly onLeaf: (index: number, leaf: Buffer, chunkLength: number) => void,
  ) {}

  /** Bytes written so far. */
  get bytes(): number {
    return this.total;
  }

  /** Leaves handed over so far. */
  get leaves(): number {
    return this.index;
  }

  write(data: Uint8Array): void {
    let at = 0;
    while (at < data.length) {
      const n = Math.min(this.chunkSize - this.inChunk, data.length - at);
      this.hash.update(data.subarray(at, at + n));
      this.inChunk += n;
      this.total += n;
      at += n;
      if (this.inChunk === this.chunkSize) this.emit();
    }
  }

  end(): void {
    if (this.inChunk > 0) this.emit();
  }

  private emit(): void {
    const leaf = this.hash.digest();
    const length = this.inChunk;
    this.hash = newLeaf();
    this.inChunk = 0;
    // Counted before the callback, which may throw to stop the stream.
    this.onLeaf(this.index++, leaf, length);
  }
}

function newLeaf(): Hash {
  return createHash('sha256').update(MERKLE_LEAF_PREFIX);
}
