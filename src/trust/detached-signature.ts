import { createHash, createVerify, type X509Certificate } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chainRejection, checkSignerInfo, findSigner, parseDetachedCms, reject, signatureVerdict, type ImageVerdict } from './image-verifier.js';
import { algorithmFitsKey, OID } from './signature-algorithms.js';
import { subjectLine, type TrustStore } from './trust-store.js';

/**
 * A detached CMS signature in its own file, as iPXE's `imgverify` checks one: DER or PEM,
 * made with or without signed attributes (`openssl cms -sign -binary -noattr -outform DER`
 * has none, so the signature covers the file itself). The file is read once, streaming:
 * one pass feeds the sha256 and, for a signature without attributes, the verifier.
 */
export async function verifyDetachedSignature(contentPath: string, signature: Buffer, store: TrustStore): Promise<ImageVerdict & { sha256: Buffer }> {
  const parsed = parseDetachedCms(signature);
  const sha256Hash = createHash('sha256');
  const streaming = createVerify('sha256');
  for await (const chunk of createReadStream(contentPath, { highWaterMark: 1 << 20 })) {
    sha256Hash.update(chunk as Buffer);
    streaming.update(chunk as Buffer);
  }
  const sha256 = sha256Hash.digest();
  const done = (v: ImageVerdict): ImageVerdict & { sha256: Buffer } => ({ ...v, sha256 });

  const revoked = store.revokedDigest(sha256);
  if (revoked) return done(reject('revoked-digest', `dbx lists sha256 ${revoked.toString('hex')} (the file)`));
  if (typeof parsed === 'string') return done(reject('malformed-signature', parsed));
  if (parsed.signerInfos.length !== 1) return done(reject('malformed-signature', `${parsed.signerInfos.length} signers; a detached .sig has exactly one`));
  const signerInfo = parsed.signerInfos[0]!;
  const { certs } = parsed;
  if (signerInfo.digestAlgorithm.algorithm !== OID.sha256) {
    return done(reject('unsupported-digest', `digest algorithm ${signerInfo.digestAlgorithm.algorithm}; only sha256 (${OID.sha256}) is accepted`));
  }
  const attrs = signerInfo.signedAttrs;
  if (attrs && attrs.length > 0) {
    const checked = checkSignerInfo(signerInfo, certs, store, sha256, 'of the file');
    if (!checked.ok) return done(reject(checked.reason, checked.detail));
    return done(judgeSigner(checked.signer, certs, store));
  }
  // Without attributes the signature covers the file itself: the streaming verifier has it.
  const signer = findSigner(signerInfo, certs, store);
  if (!signer) return done(reject('untrusted-signer', 'the signer certificate is neither in the signature nor in db'));
  if (!algorithmFitsKey(signerInfo.signatureAlgorithm, signer.publicKey) || signer.publicKey.asymmetricKeyType === 'ed25519') {
    // Ed25519 cannot be verified from a stream; no iPXE build signs with it.
    return done(reject('bad-signature', `signature algorithm ${signerInfo.signatureAlgorithm.algorithm} does not fit a ${signer.publicKey.asymmetricKeyType} key`));
  }
  if (!streaming.verify(signer.publicKey, new Uint8Array(signerInfo.signature.buffer))) {
    return done(reject('bad-signature', `the signature does not verify with the key of "${subjectLine(signer)}"`));
  }
  return done(judgeSigner(signer, certs, store));
}

/** A verified signer, judged by db, dbx and (when asked) dates, as an appended signature's is. */
export function judgeSigner(signer: X509Certificate, certs: X509Certificate[], store: TrustStore): ImageVerdict {
  const decision = store.authorise(signer, certs);
  if (!decision) return reject('untrusted-signer', `"${subjectLine(signer)}" does not chain to any of ${store.db.length} db certificates`);
  return chainRejection(store, decision.path) ?? signatureVerdict(signer, decision, 'signature');
}