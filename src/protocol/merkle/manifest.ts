import { createHash } from 'node:crypto';
import { DecodeError, EncodeError } from '../../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { catchDecodeError } from '../bytes/catch-decode.js';
import { err, ok, type Result } from '../result.js';

/**
 * bootlab's chunked Merkle manifest (the fs-verity / IPE idea, for a network instead of a
 * disk): an image is cut into equal chunks, each chunk's hash is a leaf, and only the small
 * descriptor holding the tree's root is signed. A device that has checked the descriptor's
 * signature checks the leaves against the root, then each chunk against its leaf as it
 * arrives, so a bad mirror is caught at its first bad chunk, not after the whole download.
 *
 * File layout (all integers big-endian):
 *   descriptor, 57 bytes: magic "BLMERKLE", version u8 = 1, hash algorithm u16 (TPM_ALG_ID,
 *     0x000B = sha256), log2(chunk size) u8, flags u8 = 0, image size u64, leaf count u32,
 *     root (32 bytes)
 *   leaves: leaf count × 32 bytes
 *   signature: a detached CMS SignedData (DER or PEM) over the descriptor's 57 bytes
 *
 * The tree is RFC 6962's Merkle Tree Hash: leaf = H(0x00 ‖ chunk), node = H(0x01 ‖ left ‖
 * right), split at the largest power of two below the count, so no leaf can pose as a node.
 */
export const MERKLE_MAGIC = Buffer.from('BLMERKLE', 'latin1');
export const MERKLE_VERSION = 1;
export const TPM_ALG_SHA256 = 0x000b;
export const MERKLE_DESCRIPTOR_BYTES = 57;
export const MERKLE_HASH_BYTES = 32;
/** 4 KiB (fs-verity's block) to 64 MiB. */
export const MIN_CHUNK_LOG2 = 12;
export const MAX_CHUNK_LOG2 = 26;
export const DEFAULT_CHUNK_LOG2 = 20;
/** RFC 6962's domain separation: a leaf can never pose as an inner node. */
export const MERKLE_LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

export interface MerkleDescriptor {
  chunkSize: number;
  imageSize: number;
  leafCount: number;
  root: Buffer;
}

export interface MerkleManifest extends MerkleDescriptor {
  /** The 57 signed bytes. */
  descriptorBytes: Buffer;
  leaves: Buffer[];
  /** What follows the leaves: the signature. */
  signature: Buffer;
}

export interface MerkleLimits {
  /** A 64 GiB image in 1 MiB chunks has 65536 leaves (2 MiB). */
  maxLeaves?: number;
}

export function leafCountFor(imageSize: number, chunkSize: number): number {
  return Math.ceil(imageSize / chunkSize);
}

/** RFC 6962 §2.1 over leaf hashes; the empty tree's hash is sha256 of nothing. */
export function merkleRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  let level = [...leaves];
  // Bottom-up over the same shape as the recursive split: pair from the left, carry an odd last node up.
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(createHash('sha256').update(NODE_PREFIX).update(level[i]!).update(level[i + 1]!).digest());
    if (level.length % 2 === 1) next.push(level[level.length - 1]!);
    level = next;
  }
  return level[0]!;
}

export function encodeMerkleDescriptor(d: MerkleDescriptor): Buffer {
  const log2 = Math.log2(d.chunkSize);
  if (!Number.isInteger(log2) || log2 < MIN_CHUNK_LOG2 || log2 > MAX_CHUNK_LOG2) {
    throw new EncodeError('merkle', 'chunk size', `${d.chunkSize} is not a power of two from ${2 ** MIN_CHUNK_LOG2} to ${2 ** MAX_CHUNK_LOG2}`);
  }
  if (!Number.isSafeInteger(d.imageSize) || d.imageSize < 0) throw new EncodeError('merkle', 'image size', `${d.imageSize} is not a byte count`);
  if (d.leafCount !== leafCountFor(d.imageSize, d.chunkSize)) throw new EncodeError('merkle', 'leaf count', `${d.leafCount} leaves for ${d.imageSize} bytes in ${d.chunkSize}-byte chunks`);
  if (d.root.length !== MERKLE_HASH_BYTES) throw new EncodeError('merkle', 'root', `${d.root.length} bytes, not ${MERKLE_HASH_BYTES}`);
  const b = Buffer.alloc(MERKLE_DESCRIPTOR_BYTES);
  MERKLE_MAGIC.copy(b, 0);
  b.writeUInt8(MERKLE_VERSION, 8);
  b.writeUInt16BE(TPM_ALG_SHA256, 9);
  b.writeUInt8(log2, 11);
  b.writeUInt8(0, 12);
  b.writeBigUInt64BE(BigInt(d.imageSize), 13);
  b.writeUInt32BE(d.leafCount, 21);
  d.root.copy(b, 25);
  return b;
}

/**
 * Decodes descriptor, leaves and the bytes after them, and checks that the leaves hash to
 * the descriptor's root. The signature itself is the trust layer's job.
 */
export function decodeMerkleManifest(buf: Uint8Array, limits: MerkleLimits = {}): Result<MerkleManifest, DecodeError> {
  const maxLeaves = limits.maxLeaves ?? 65_536;
  return catchDecodeError(() => {
    const r = new ByteReader(buf, 'merkle');
    const magic = r.bytes(8, 'magic');
    if (!MERKLE_MAGIC.equals(magic)) return err(new DecodeError('merkle', 'malformed', 0, 'magic', `not a bootlab Merkle manifest (${JSON.stringify(Buffer.from(magic).toString('latin1'))})`));
    const version = r.u8('version');
    if (version !== MERKLE_VERSION) return err(new DecodeError('merkle', 'unsupported', 8, 'version', `version ${version}; this bootlab reads ${MERKLE_VERSION}`));
    const alg = r.u16('hash algorithm');
    if (alg !== TPM_ALG_SHA256) return err(new DecodeError('merkle', 'unsupported', 9, 'hash algorithm', `0x${alg.toString(16).padStart(4, '0')}; only sha256 (0x000b)`));
    const log2 = r.u8('chunk size');
    if (log2 < MIN_CHUNK_LOG2 || log2 > MAX_CHUNK_LOG2) return err(new DecodeError('merkle', 'malformed', 11, 'chunk size', `2^${log2}; allowed 2^${MIN_CHUNK_LOG2} to 2^${MAX_CHUNK_LOG2}`));
    const flags = r.u8('flags');
    if (flags !== 0) return err(new DecodeError('merkle', 'unsupported', 12, 'flags', `0x${flags.toString(16)}; none are defined`));
    const size = r.u64('image size');
    if (size > BigInt(Number.MAX_SAFE_INTEGER)) return err(new DecodeError('merkle', 'limit', 13, 'image size', `${size} bytes`));
    const imageSize = Number(size);
    const chunkSize = 2 ** log2;
    const leafCount = r.u32('leaf count');
    if (leafCount !== leafCountFor(imageSize, chunkSize)) {
      return err(new DecodeError('merkle', 'malformed', 21, 'leaf count', `${leafCount} leaves, but ${imageSize} bytes in ${chunkSize}-byte chunks need ${leafCountFor(imageSize, chunkSize)}`));
    }
    if (leafCount > maxLeaves) return err(new DecodeError('merkle', 'limit', 21, 'leaf count', `${leafCount} leaves; at most ${maxLeaves}`));
    const root = Buffer.from(r.bytes(MERKLE_HASH_BYTES, 'root'));
    const leaves: Buffer[] = [];
    for (let i = 0; i < leafCount; i++) leaves.push(Buffer.from(r.bytes(MERKLE_HASH_BYTES, `leaf ${i}`)));
    const computed = merkleRoot(leaves);
    if (!computed.equals(root)) {
      return err(new DecodeError('merkle', 'malformed', MERKLE_DESCRIPTOR_BYTES, 'leaves', `they hash to ${computed.toString('hex')}, the descriptor's root is ${root.toString('hex')}`));
    }
    const descriptorBytes = Buffer.from(buf.subarray(0, MERKLE_DESCRIPTOR_BYTES));
    const signature = Buffer.from(buf.subarray(r.offset));
    return ok({ chunkSize, imageSize, leafCount, root, descriptorBytes, leaves, signature });
  });
}

