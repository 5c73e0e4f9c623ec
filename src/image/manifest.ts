import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { BootlabError } from '../errors.js';
import { LeafHasher } from '../protocol/merkle/leaf-hasher.js';
import { DEFAULT_CHUNK_LOG2, encodeMerkleDescriptor, MAX_CHUNK_LOG2, merkleRoot, MIN_CHUNK_LOG2 } from '../protocol/merkle/manifest.js';
import { writeFileAtomically } from './atomic-file.js';
import { buildDetachedCms, type SigningKey } from './sign.js';

export interface ManifestOptions {
  /** A power of two from 4 KiB to 64 MiB; default 1 MiB. */
  chunkSize?: number;
  signingTime?: Date;
}

export interface BuiltManifest {
  path: string;
  imageSize: number;
  chunkSize: number;
  leafCount: number;
  root: Buffer;
}

/**
 * Cuts `image` into chunks, hashes each into a leaf (streaming: one chunk in memory at a
 * time), and writes descriptor + leaves + a detached CMS (DER) over the descriptor to `out`.
 */
export async function buildManifest(image: string, key: SigningKey, out: string, opts: ManifestOptions = {}): Promise<BuiltManifest> {
  const chunkSize = opts.chunkSize ?? 2 ** DEFAULT_CHUNK_LOG2;
  const log2 = Math.log2(chunkSize);
  if (!Number.isInteger(log2) || log2 < MIN_CHUNK_LOG2 || log2 > MAX_CHUNK_LOG2) {
    throw new BootlabError('BL_CLI_INPUT', `chunk size ${chunkSize}: a power of two from ${2 ** MIN_CHUNK_LOG2} to ${2 ** MAX_CHUNK_LOG2} bytes`);
  }
  const leaves: Buffer[] = [];
  const hasher = new LeafHasher(chunkSize, (_i, leaf) => leaves.push(leaf));
  for await (const data of createReadStream(image, { highWaterMark: 1 << 20 })) hasher.write(data as Buffer);
  hasher.end();
  const imageSize = hasher.bytes;
  const root = merkleRoot(leaves);
  const descriptor = encodeMerkleDescriptor({ chunkSize, imageSize, leafCount: leaves.length, root });
  const cms = buildDetachedCms(createHash('sha256').update(descriptor).digest(), key, opts.signingTime ?? new Date());
  await writeFileAtomically(out, 0o644, async (append) => {
    await append(descriptor);
    for (const leaf of leaves) await append(leaf);
    await append(cms);
  });
  return { path: out, imageSize, chunkSize, leafCount: leaves.length, root };
}
