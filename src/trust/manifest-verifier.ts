import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { decodeMerkleManifest, type MerkleManifest } from '../protocol/merkle/manifest.js';
import { judgeSigner } from './detached-signature.js';
import { StreamRefusedError, ChunkVerifier } from './chunk-verifier.js';
import { SignedImageDigester, type DigesterLimits } from './image-digester.js';
import { checkSignerInfo, parseDetachedCms, reject, verifyDigestedImage, type ImageRejection, type ImageVerdict } from './image-verifier.js';
import type { TrustStore } from './trust-store.js';

export type ManifestVerdict =
  | { ok: true; manifest: MerkleManifest; signer: string; authority: string }
  | { ok: false; reason: ImageRejection; detail: string };

/**
 * A manifest is trusted when its leaves hash to the descriptor's root and the descriptor
 * carries one signature by a signer that db vouches for (dbx and dates as for any image).
 * Only then may its leaves judge a download.
 */
export function verifyManifest(bytes: Buffer, store: TrustStore): ManifestVerdict {
  const no = (reason: ImageRejection, detail: string): ManifestVerdict => ({ ok: false, reason, detail: `manifest: ${detail}` });
  const decoded = decodeMerkleManifest(bytes);
  if (!decoded.ok) return no('bad-manifest', decoded.error.message);
  const manifest = decoded.value;
  if (manifest.signature.length === 0) return no('no-signature', 'nothing follows the leaves: the descriptor is unsigned');
  const parsed = parseDetachedCms(manifest.signature);
  if (typeof parsed === 'string') return no('malformed-signature', parsed);
  if (parsed.signerInfos.length !== 1) return no('malformed-signature', `${parsed.signerInfos.length} signers; a manifest has exactly one`);
  const checked = checkSignerInfo(parsed.signerInfos[0]!, parsed.certs, store, createHash('sha256').update(manifest.descriptorBytes).digest(), 'of the manifest descriptor');
  if (!checked.ok) return no(checked.reason, checked.detail);
  const v = judgeSigner(checked.signer, parsed.certs, store);
  if (!v.ok) return no(v.reason, v.detail);
  return { ok: true, manifest, signer: v.signer.subject, authority: v.authority.subject };
}

/**
 * The manifest first (nothing of the image is read unless it is trusted), then one pass
 * over the image that feeds both the chunk check and the digester and stops at the first
 * bad chunk; only a stream that matched every leaf is judged as an image.
 */
export async function verifyImageFileWithManifest(
  path: string,
  manifestBytes: Buffer,
  store: TrustStore,
  limits?: DigesterLimits,
): Promise<{ manifest: ManifestVerdict; verdict: ImageVerdict; bytesRead: number }> {
  const manifest = verifyManifest(manifestBytes, store);
  if (!manifest.ok) return { manifest, verdict: reject(manifest.reason, manifest.detail), bytesRead: 0 };
  const chunks = new ChunkVerifier(manifest.manifest);
  const digester = new SignedImageDigester(limits);
  let bytesRead = 0;
  try {
    for await (const data of createReadStream(path, { highWaterMark: 1 << 20 })) {
      bytesRead += (data as Buffer).length;
      chunks.write(data as Buffer);
      digester.write(data as Buffer);
    }
    chunks.finish();
  } catch (e) {
    if (e instanceof StreamRefusedError) return { manifest, verdict: reject(e.reason, e.message), bytesRead };
    throw e;
  }
  return { manifest, verdict: verifyDigestedImage(digester.finish(), store), bytesRead };
}
