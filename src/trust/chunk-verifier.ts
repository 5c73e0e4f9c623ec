import { BootlabError } from '../errors.js';
import { LeafHasher } from '../protocol/merkle/leaf-hasher.js';
import type { MerkleManifest } from '../protocol/merkle/manifest.js';
import type { ImageRejection } from './image-verifier.js';

/** A download stopped before its end because its bytes cannot be trusted: why, and how far it got. */
export class StreamRefusedError extends BootlabError {
  constructor(
    readonly reason: ImageRejection,
    /** Bytes received when the download was stopped. */
    readonly received: number,
    detail: string,
    /** The chunk that failed its leaf, when a manifest judged the stream. */
    readonly chunk?: number,
  ) {
    super('BL_IMAGE_REFUSED', detail);
  }
}

/**
 * Checks a stream against a manifest's leaves as it arrives: each chunk is compared the
 * moment it is complete, so the first bad chunk stops the download (the error thrown here
 * leaves the caller's body handler and aborts the transfer). Holds no image bytes.
 */
export class ChunkVerifier {
  private readonly hasher: LeafHasher;

  constructor(private readonly manifest: Pick<MerkleManifest, 'chunkSize' | 'imageSize' | 'leaves'>) {
    this.hasher = new LeafHasher(manifest.chunkSize, (i, leaf, length) => this.check(i, leaf, length));
  }

  /** Chunks checked so far. */
  get verifiedChunks(): number {
    return this.hasher.leaves;
  }

  write(data: Uint8Array): void {
    const { imageSize } = this.manifest;
    const after = this.hasher.bytes + data.length;
    if (after > imageSize) {
      throw new StreamRefusedError('bad-chunk', after, `more than the manifest's ${imageSize} bytes arrived: stopped at byte ${after}`, Math.floor(imageSize / this.manifest.chunkSize));
    }
    this.hasher.write(data);
  }

  /** Checks the last, short chunk; throws unless every chunk arrived. */
  finish(): void {
    this.hasher.end();
    const { imageSize, leaves } = this.manifest;
    if (this.hasher.leaves < leaves.length) {
      throw new StreamRefusedError('truncated', this.hasher.bytes, `${this.hasher.bytes} of the manifest's ${imageSize} bytes arrived: chunk ${this.hasher.leaves} of ${leaves.length} is missing`, this.hasher.leaves);
    }
  }

  private check(index: number, got: Buffer, length: number): void {
    const { chunkSize, leaves, imageSize } = this.manifest;
    const want = leaves[index]!;
    if (got.equals(want)) return;
    const start = index * chunkSize;
    throw new StreamRefusedError(
      'bad-chunk',
      this.hasher.bytes,
      `chunk ${index} of ${leaves.length} (bytes ${start}..${start + length - 1}) does not match the signed manifest (leaf ${want.toString('hex').slice(0, 16)}…, got ${got.toString('hex').slice(0, 16)}…): stopped after ${this.hasher.bytes} of ${imageSize} bytes`,
      index,
    );
  }
}
