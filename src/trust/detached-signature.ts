import { createHash, createVerify } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { id_contentType, id_messageDigest } from '@peculiar/asn1-cms';
import { encodeAttributeSet } from './cms-attributes.js';
import { findSigner, parseDetachedCms, reject, type ImageVerdict } from './image-verifier.js';
import { algorithmFitsKey, OID, verifySignature } from './signature-algorithms.js';
import { subjectLine, type TrustStore } from './trust-store.js';

const ID_DATA_DER = Buffer.from('06092a864886f70d010701', 'hex');

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
  const signer = findSigner(signerInfo, certs, store);
  if (!signer) return done(reject('untrusted-signer', 'the signer certificate is neither in the signature nor in db'));
  const sigBytes = new Uint8Array(signerInfo.signature.buffer);

  let good: boolean | 'unsupported';
  const attrs = signerInfo.signedAttrs;
  if (attrs && attrs.length > 0) {
    const one = (type: string): Buffer | undefined => {
      const found = attrs.filter((a) => a.attrType === type);
      return found.length === 1 && found[0]!.attrValues.length === 1 ? Buffer.from(found[0]!.attrValues[0]!) : undefined;
    };
    const contentType = one(id_contentType);
    const md = one(id_messageDigest);
    if (!contentType || !contentType.equals(ID_DATA_DER) || !md) return done(reject('malformed-signature', 'signed attributes need one id-data content type and one messageDigest'));
    const messageDigest = Buffer.from(AsnConvert.parse(md, OctetString).buffer);
    if (!messageDigest.equals(sha256)) return done(reject('digest-mismatch', `signed sha256 ${messageDigest.toString('hex')}, file sha256 ${sha256.toString('hex')}`));
    good = verifySignature(signerInfo.signatureAlgorithm, encodeAttributeSet(attrs), sigBytes, signer.publicKey);
  } else if (!algorithmFitsKey(signerInfo.signatureAlgorithm, signer.publicKey) || signer.publicKey.asymmetricKeyType === 'ed25519') {
    // Ed25519 cannot be verified from a stream; no iPXE build signs with it.
    good = 'unsupported';
  } else {
    good = streaming.verify(signer.publicKey, sigBytes);
  }
  if (good === 'unsupported') {
    return done(reject('bad-signature', `signature algorithm ${signerInfo.signatureAlgorithm.algorithm} does not fit a ${signer.publicKey.asymmetricKeyType} key`));
  }
  if (!good) return done(reject('bad-signature', `the signature does not verify with the key of "${subjectLine(signer)}"`));

  const decision = store.authorise(signer, certs);
  if (!decision) return done(reject('untrusted-signer', `"${subjectLine(signer)}" does not chain to any of ${store.db.length} db certificates`));
  const revokedCert = store.revokedIn(decision.path);
  if (revokedCert) return done(reject('revoked-signer', `dbx revokes "${subjectLine(revokedCert)}"`));
  const stale = store.outOfTimeIn(decision.path);
  if (stale) return done(reject('expired-signer', `"${subjectLine(stale)}" is valid ${stale.validFrom} to ${stale.validTo}, not at ${store.checkTimeAt!.toISOString()}`));
  return done({
    ok: true,
    signer: { subject: subjectLine(signer), sha256Fingerprint: createHash('sha256').update(signer.raw).digest('hex'), certDer: Buffer.from(signer.raw) },
    authority: { subject: subjectLine(decision.authority), entry: Buffer.from(decision.authority.raw), kind: 'certificate' },
    rule: 'signature',
    digestAlg: 'sha256',
  });
}
