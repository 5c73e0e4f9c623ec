import { createHash, X509Certificate } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { parseSharchHeader, SHARCH_MAX_HEADER_BYTES } from '../protocol/sharch/layout.js';
import { readFileHead, readFileRange } from './file-range.js';
import { hashFileRange } from './range-hash-worker.js';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { ContentInfo, SignedData, id_contentType, id_data, id_messageDigest, id_signedData, type SignerInfo } from '@peculiar/asn1-cms';
import { encodeAttributeSet } from './cms-attributes.js';
import { MAX_SIGNATURE_BYTES, SignedImageDigester, type DigestedImage, type DigesterLimits } from './image-digester.js';
import { DecodeError } from '../errors.js';
import { pemDecodeAll } from './pem.js';
import { OID, verifySignature } from './signature-algorithms.js';
import { subjectLine, type TrustDecision, type TrustStore } from './trust-store.js';

export type ImageRejection =
  | 'not-sharch'
  | 'truncated'
  | 'payload-checksum'
  | 'no-signature'
  | 'malformed-signature'
  | 'unsupported-digest'
  | 'digest-mismatch'
  | 'bad-signature'
  | 'untrusted-signer'
  | 'revoked-digest'
  | 'revoked-signer'
  | 'expired-signer'
  | 'not-approved'
  | 'missing-countersignature'
  /** A chunked Merkle manifest that is required but missing, malformed, or whose leaves do not hash to its root. */
  | 'no-manifest'
  | 'bad-manifest'
  /** A chunk that does not match the signed manifest: the download was stopped there. */
  | 'bad-chunk';

export type ImageVerdict =
  | {
      ok: true;
      signer: { subject: string; sha256Fingerprint: string; certDer: Buffer };
      /** The db entry that approved: a certificate (DER), or for an allow-list entry the image's sha256. */
      authority: { subject: string; entry: Buffer; kind: 'certificate' | 'sha256' };
      /** Subjects from the signer up to the authority (empty for an approved digest). */
      chain: string[];
      /** Which rule let the image in. */
      rule: 'signature' | 'allow-list' | 'signature+allow-list' | 'dual-signer';
      /** With dual-signer: the second signer and the operator certificate that vouches for it. */
      countersigner?: { subject: string; authority: string; authorityEntry: Buffer };
      digestAlg: 'sha256';
    }
  | { ok: false; reason: ImageRejection; detail: string };

export const reject = (reason: ImageRejection, detail: string): ImageVerdict => ({ ok: false, reason, detail });

/**
 * Checks a digested image the way SONiC's verify_image_sign.sh does with openssl (detached
 * CMS over header + payload, signer chained to the UEFI db), cheapest check first. Only
 * the digests and the few KiB after the payload are needed, never the image itself.
 */
export function verifyDigestedImage(d: DigestedImage, store: TrustStore): ImageVerdict {
  const layout = d.layout;
  if (!layout) return reject('not-sharch', d.layoutError?.message ?? 'no sharch header');
  const signedEnd = layout.headerLength + layout.payloadSize;
  if (d.size < signedEnd || !d.signedSha256 || d.payloadSha1Actual === undefined) {
    return reject('truncated', `${d.size} bytes, but the header declares ${signedEnd} through the end of the payload`);
  }
  if (d.payloadSha1Actual !== layout.payloadSha1) {
    return reject('payload-checksum', `payload sha1 is ${d.payloadSha1Actual}, the header says ${layout.payloadSha1}`);
  }
  // dbx first, as UEFI does: a revoked image stays revoked however it is (re-)signed.
  const revoked = store.revokedDigest(d.signedSha256, d.fileSha256);
  if (revoked) return reject('revoked-digest', `dbx lists sha256 ${revoked.toString('hex')} (${revoked.equals(d.signedSha256) ? 'the signed header and payload' : 'the whole file'})`);
  const approved = store.approvedDigest(d.signedSha256, d.fileSha256);
  if ((store.mode === 'allow-list' || store.mode === 'both') && !approved) {
    return reject('not-approved', `sha256 ${d.signedSha256.toString('hex')} is not one of the ${store.approved.length} approved digests (mode ${store.mode})`);
  }
  if (store.mode === 'allow-list' && approved) {
    // The approve-list model: the digest is the authority, no signature is needed.
    return {
      ok: true,
      signer: { subject: 'none (approved digest)', sha256Fingerprint: '', certDer: Buffer.alloc(0) },
      authority: { subject: `approved sha256 ${approved.toString('hex')}`, entry: approved, kind: 'sha256' },
      chain: [],
      rule: 'allow-list',
      digestAlg: 'sha256',
    };
  }
  if (d.signatureError) return reject('malformed-signature', d.signatureError.message);
  if (!d.signature || d.signature.length === 0) return reject('no-signature', `nothing follows the payload at offset ${signedEnd}`);

  const parsed = parseDetachedCms(d.signature);
  if (typeof parsed === 'string') return reject('malformed-signature', parsed);
  const { signerInfos, certs } = parsed;

  // Every signer must hold: a countersignature that does not verify spoils the image.
  const signers: X509Certificate[] = [];
  for (const [i, signerInfo] of signerInfos.entries()) {
    const who = signerInfos.length > 1 ? `signer ${i + 1}: ` : '';
    const checked = checkSignerInfo(signerInfo, certs, store, d.signedSha256, `over bytes 0..${signedEnd}`);
    if (!checked.ok) return reject(checked.reason, `${who}${checked.detail}`);
    signers.push(checked.signer);
  }

  // The db decides; with dual-signer, the operator's list must vouch for another signer too.
  const vouched = signers.map((signer) => ({ signer, decision: store.authorise(signer, certs) }));
  const primary = vouched.find((v) => v.decision);
  if (!primary?.decision) {
    const signer = signers[0]!;
    return reject('untrusted-signer', `"${subjectLine(signer)}" (issuer "${signer.issuer.split('\n').join(', ')}") does not chain to any of ${store.db.length} db certificates`);
  }
  let counter: { signer: X509Certificate; decision: TrustDecision } | undefined;
  if (store.mode === 'dual-signer') {
    const found = vouched.map((v) => ({ signer: v.signer, decision: store.authoriseOperator(v.signer, certs) })).find((v) => v.decision && v.signer !== primary.signer);
    if (!found?.decision) {
      return reject('missing-countersignature', `signed by ${signers.map((c) => `"${subjectLine(c)}"`).join(', ')}; none of them other than "${subjectLine(primary.signer)}" chains to the ${store.operatorDb.length} operator certificates`);
    }
    counter = { signer: found.signer, decision: found.decision };
  }
  for (const path of [primary.decision.path, ...(counter ? [counter.decision.path] : [])]) {
    const refused = chainRejection(store, path);
    if (refused) return refused;
  }
  const rule = store.mode === 'both' ? 'signature+allow-list' : store.mode === 'dual-signer' ? 'dual-signer' : 'signature';
  return signatureVerdict(primary.signer, primary.decision, rule, counter);
}

/** What dbx and (when asked) validity dates say of a chain db or the operator list accepted. */
export function chainRejection(store: TrustStore, path: readonly X509Certificate[]): ImageVerdict | undefined {
  const revokedCert = store.revokedIn(path);
  if (revokedCert) return reject('revoked-signer', `dbx revokes "${subjectLine(revokedCert)}", on the chain ${path.map((c) => `"${subjectLine(c)}"`).join(' → ')}`);
  const stale = store.outOfTimeIn(path);
  if (stale) return reject('expired-signer', `"${subjectLine(stale)}" is valid ${stale.validFrom} to ${stale.validTo}, not at ${store.checkTimeAt!.toISOString()}`);
  return undefined;
}

/** The accepted verdict: the signer, the db entry that vouches for it, the rule, and any countersigner. */
export function signatureVerdict(
  signer: X509Certificate,
  decision: TrustDecision,
  rule: 'signature' | 'signature+allow-list' | 'dual-signer',
  counter?: { signer: X509Certificate; decision: TrustDecision },
): ImageVerdict {
  return {
    ok: true,
    signer: { subject: subjectLine(signer), sha256Fingerprint: createHash('sha256').update(signer.raw).digest('hex'), certDer: Buffer.from(signer.raw) },
    authority: { subject: subjectLine(decision.authority), entry: Buffer.from(decision.authority.raw), kind: 'certificate' },
    chain: decision.path.map(subjectLine),
    ...(counter ? { countersigner: { subject: subjectLine(counter.signer), authority: subjectLine(counter.decision.authority), authorityEntry: Buffer.from(counter.decision.authority.raw) } } : {}),
    rule,
    digestAlg: 'sha256',
  };
}

/**
 * One SignerInfo with signed attributes: sha256, attributes naming id-data and this
 * content's digest (`where` says what the content is, for the message), a signature by its
 * certificate.
 */
export function checkSignerInfo(
  signerInfo: SignerInfo,
  certs: X509Certificate[],
  store: TrustStore,
  contentSha256: Buffer,
  where: string,
): { ok: true; signer: X509Certificate } | { ok: false; reason: ImageRejection; detail: string } {
  const no = (reason: ImageRejection, detail: string) => ({ ok: false as const, reason, detail });
  if (signerInfo.digestAlgorithm.algorithm !== OID.sha256) {
    return no('unsupported-digest', `digest algorithm ${signerInfo.digestAlgorithm.algorithm}; only sha256 (${OID.sha256}) is accepted`);
  }
  const attrs = signerInfo.signedAttrs;
  if (!attrs || attrs.length === 0) return no('malformed-signature', 'the signer has no signed attributes');
  const contentType = single(attrs, id_contentType);
  if (typeof contentType === 'string') return no('malformed-signature', contentType);
  if (!contentType.equals(Buffer.from('06092a864886f70d010701', 'hex'))) return no('malformed-signature', `signed content type is not id-data (${id_data})`);
  const md = single(attrs, id_messageDigest);
  if (typeof md === 'string') return no('malformed-signature', md);
  let messageDigest: Buffer;
  try {
    messageDigest = Buffer.from(AsnConvert.parse(md, OctetString).buffer);
  } catch {
    return no('malformed-signature', 'messageDigest is not an OCTET STRING');
  }
  if (!messageDigest.equals(contentSha256)) {
    return no('digest-mismatch', `signed sha256 ${messageDigest.toString('hex')}, content sha256 ${contentSha256.toString('hex')} ${where}`);
  }
  const signer = findSigner(signerInfo, certs, store);
  if (!signer) return no('untrusted-signer', 'the signer certificate is neither in the signature nor in db');
  const good = verifySignature(signerInfo.signatureAlgorithm, encodeAttributeSet(attrs), new Uint8Array(signerInfo.signature.buffer), signer.publicKey);
  if (good === 'unsupported') return no('bad-signature', `signature algorithm ${signerInfo.signatureAlgorithm.algorithm} does not fit a ${signer.publicKey.asymmetricKeyType} key`);
  if (!good) return no('bad-signature', `the signature does not verify with the key of "${subjectLine(signer)}"`);
  return { ok: true, signer };
}

/**
 * The digests of an image file, as SignedImageDigester gives them for the same bytes. For
 * a sharch image two workers hash at once (the file with sha256, its prefix copied at the
 * signed range's end, and the payload with sha1 for ONIE's own check), so the second digest
 * costs no wall time on a machine with two cores; anything else streams through the
 * digester, which says why it is no image.
 */
export async function digestImageFile(path: string, limits: DigesterLimits = {}): Promise<DigestedImage> {
  const maxHeaderBytes = limits.maxHeaderBytes ?? SHARCH_MAX_HEADER_BYTES;
  const parsed = parseSharchHeader(await readFileHead(path, maxHeaderBytes), { maxHeaderBytes });
  if (!parsed.ok) return streamDigest(path, limits);
  const layout = parsed.value;
  const signedEnd = layout.headerLength + layout.payloadSize;
  const algs = ['sha256' as const, ...(limits.sha1 !== false ? ['sha1' as const] : []), ...(limits.sha384 ? ['sha384' as const] : [])];
  const [file, payload] = await Promise.all([
    hashFileRange({ path, start: 0, end: Number.MAX_SAFE_INTEGER, algs, checkpoint: signedEnd }),
    hashFileRange({ path, start: layout.headerLength, end: signedEnd, algs: ['sha1'] }),
  ]);
  const d: DigestedImage = {
    size: file.bytes,
    fileSha256: file.digests['sha256']!,
    ...(file.digests['sha1'] ? { fileSha1: file.digests['sha1'] } : {}),
    ...(file.digests['sha384'] ? { fileSha384: file.digests['sha384'] } : {}),
    layout,
  };
  if (file.bytes < signedEnd || !file.atCheckpoint || payload.bytes !== layout.payloadSize) return d;
  d.signedSha256 = file.atCheckpoint['sha256']!;
  d.payloadSha1Actual = payload.digests['sha1']!.toString('hex');
  const maxSignature = limits.maxSignatureBytes ?? MAX_SIGNATURE_BYTES;
  const tail = file.bytes - signedEnd;
  if (tail > maxSignature) d.signatureError = new DecodeError('sharch', 'limit', signedEnd, 'signature', `more than ${maxSignature} bytes follow the payload`);
  else if (tail > 0) d.signature = await readFileRange(path, signedEnd, tail);
  return d;
}

async function streamDigest(path: string, limits: DigesterLimits): Promise<DigestedImage> {
  const digester = new SignedImageDigester(limits);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) digester.write(chunk as Buffer);
  return digester.finish();
}

/** Streams the file through the digester, then verifies. */
export async function verifyImageFile(
  path: string,
  store: TrustStore,
  limits?: DigesterLimits,
): Promise<ImageVerdict & { digest: DigestedImage }> {
  const digest = await digestImageFile(path, limits);
  return { ...verifyDigestedImage(digest, store), digest };
}

/** One line: trusted by which rule, signer and authority; or the rejection and why. */
export function formatVerdict(v: ImageVerdict): string {
  if (!v.ok) return `REJECTED: ${v.reason}: ${v.detail}`;
  const counter = v.countersigner ? `; countersigner "${v.countersigner.subject}", authority "${v.countersigner.authority}"` : '';
  const chain = v.chain.length > 2 ? `; chain ${v.chain.map((s) => `"${s}"`).join(' → ')}` : '';
  return `trusted (${v.rule}); signer "${v.signer.subject}", authority "${v.authority.subject}"${chain}${counter}`;
}

/** A vendor signature and an operator countersignature, with room to spare; more is abuse. */
const MAX_SIGNERS = 4;

export interface ParsedCms {
  signerInfos: SignerInfo[];
  certs: X509Certificate[];
}

/** A SignedData in PEM (any label) or DER; a string says why not. */
export function parseDetachedCms(sig: Buffer): ParsedCms | string {
  let der = sig;
  if (sig.subarray(0, 64).includes('-----BEGIN ')) {
    const block = pemDecodeAll(sig.toString('latin1'))[0];
    if (!block) return 'PEM armour without a valid block';
    der = block.der;
  }
  try {
    const info = AsnConvert.parse(der, ContentInfo);
    if (info.contentType !== id_signedData) return `content type ${info.contentType} is not signedData`;
    const sd = AsnConvert.parse(info.content, SignedData);
    if (sd.encapContentInfo.eContent) return 'the signature is not detached (it embeds content)';
    if (sd.signerInfos.length < 1 || sd.signerInfos.length > MAX_SIGNERS) return `${sd.signerInfos.length} signers; 1 to ${MAX_SIGNERS} are accepted`;
    const certs: X509Certificate[] = [];
    for (const choice of sd.certificates ?? []) {
      if (choice.certificate) certs.push(new X509Certificate(Buffer.from(AsnConvert.serialize(choice.certificate))));
    }
    return { signerInfos: [...sd.signerInfos], certs };
  } catch (e) {
    return `not a CMS SignedData: ${(e as Error).message}`;
  }
}

function single(attrs: SignerInfo['signedAttrs'] & object, type: string): Buffer | string {
  const found = attrs.filter((a) => a.attrType === type);
  if (found.length !== 1 || found[0]!.attrValues.length !== 1) return `signed attribute ${type} must appear once with one value`;
  return Buffer.from(found[0]!.attrValues[0]!);
}

/** The signer names its certificate by issuer and serial, or by subject key identifier. */
export function findSigner(si: SignerInfo, certs: X509Certificate[], store: TrustStore): X509Certificate | undefined {
  const candidates = [...certs, ...store.db];
  const ias = si.sid.issuerAndSerialNumber;
  if (ias) {
    const issuer = Buffer.from(AsnConvert.serialize(ias.issuer));
    const serial = Buffer.from(ias.serialNumber);
    return candidates.find((c) => {
      const tbs = AsnConvert.parse(c.raw, Certificate).tbsCertificate;
      return Buffer.from(AsnConvert.serialize(tbs.issuer)).equals(issuer) && Buffer.from(tbs.serialNumber).equals(serial);
    });
  }
  const ski = si.sid.subjectKeyIdentifier;
  if (ski) {
    const want = Buffer.from(ski.buffer).toString('hex');
    return candidates.find((c) => subjectKeyId(c) === want);
  }
  return undefined;
}

function subjectKeyId(c: X509Certificate): string | undefined {
  const ext = AsnConvert.parse(c.raw, Certificate).tbsCertificate.extensions?.find((e) => e.extnID === '2.5.29.14');
  if (!ext) return undefined;
  return Buffer.from(AsnConvert.parse(ext.extnValue.buffer, OctetString).buffer).toString('hex');
}
