import { createHash } from 'node:crypto';
import { decodeMerkleManifest, type MerkleManifest } from '../protocol/merkle/manifest.js';
import { judgeSigner } from './detached-signature.js';
import { checkSignerInfo, parseDetachedCms, type ImageRejection } from './image-verifier.js';
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
