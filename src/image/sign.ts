import { createHash, createPrivateKey, createPublicKey, sign, X509Certificate } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { AsnConvert, AsnObjectIdentifierConverter, OctetString } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  CMSVersion,
  ContentInfo,
  DigestAlgorithmIdentifier,
  DigestAlgorithmIdentifiers,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
  SigningTime,
  id_contentType,
  id_data,
  id_messageDigest,
  id_signedData,
  id_signingTime,
} from '@peculiar/asn1-cms';
import { BootlabError } from '../errors.js';
import { writeFileAtomically } from './atomic-file.js';
import { SHARCH_MAX_HEADER_BYTES, parseSharchHeader } from '../protocol/sharch/layout.js';
import { encodeSignedAttributes } from '../trust/cms-attributes.js';
import { pemDecodeAll, pemEncode, toArrayBuffer } from '../trust/pem.js';
import { subjectLine } from '../trust/trust-store.js';
import { OID, digestForKey, signatureAlgorithmFor } from '../trust/signature-algorithms.js';

export interface SigningKey {
  keyPem: string;
  certPem: string;
  /** Intermediate certificates to embed so a verifier can chain the signer to its db. */
  chainPem?: string[];
}

export interface SignedImage {
  path: string;
  /** Bytes the signature covers: the header through exit_marker and the payload. */
  signedBytes: number;
  /** The signer certificate's subject. */
  signer: string;
}

/**
 * Signs an installer image the way SONiC does (onie.md §5.2): a detached CMS SignedData
 * over the header and payload, PEM armoured and appended. Whatever the input already had
 * after the payload (an old signature) is dropped, never signed.
 */
export async function signImage(image: string, key: SigningKey, out: string, opts: { signingTime?: Date } = {}): Promise<SignedImage> {
  const signedBytes = await signedRangeOf(image);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(image, { start: 0, end: signedBytes - 1 })) hash.update(chunk as Buffer);
  const cms = buildDetachedCms(hash.digest(), key, opts.signingTime ?? new Date());
  const armoured = Buffer.from(pemEncode('CMS', cms), 'latin1');

  await writeFileAtomically(out, 0o755, async (append) => {
    let copied = 0;
    for await (const chunk of createReadStream(image, { start: 0, end: signedBytes - 1 })) {
      await append(chunk as Buffer);
      copied += (chunk as Buffer).length;
    }
    if (copied !== signedBytes) throw new BootlabError('BL_IMAGE_TRUNCATED', `${image}: changed while it was being signed`);
    await append(armoured);
  });
  return { path: out, signedBytes, signer: subjectLine(new X509Certificate(key.certPem)) };
}

/**
 * A detached CMS SignedData over content whose sha256 is `contentSha256`, shaped like
 * `openssl cms -sign -nosmimecap -binary`: signed attributes contentType, signingTime and
 * messageDigest, the signer named by issuer and serial, its certificate embedded.
 */
export function buildDetachedCms(contentSha256: Buffer, key: SigningKey, signingTime: Date): Buffer {
  const { signerInfo, certsDer } = signerInfoFor(contentSha256, key, signingTime);
  const signedData = new SignedData({
    version: CMSVersion.v1,
    digestAlgorithms: new DigestAlgorithmIdentifiers([new DigestAlgorithmIdentifier({ algorithm: OID.sha256 })]),
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: id_data }),
    certificates: new CertificateSet(certsDer.map((der) => new CertificateChoices({ certificate: AsnConvert.parse(der, Certificate) }))),
    signerInfos: new SignerInfos([signerInfo]),
  });
  const contentInfo = new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(signedData) });
  return Buffer.from(AsnConvert.serialize(contentInfo));
}

/** One signer's SignerInfo over content whose sha256 is given, and the certificates to embed for it. */
function signerInfoFor(contentSha256: Buffer, key: SigningKey, signingTime: Date): { signerInfo: SignerInfo; certsDer: Buffer[] } {
  const certDer = firstCertificate(key.certPem, 'certPem');
  const chainDer = (key.chainPem ?? []).map((p, i) => firstCertificate(p, `chainPem[${i}]`));
  const cert = AsnConvert.parse(certDer, Certificate);
  const privateKey = createPrivateKey(key.keyPem);
  if (!samePublicKey(privateKey, new X509Certificate(certDer))) {
    throw new BootlabError('BL_SIGN_KEY_MISMATCH', 'the signing key does not belong to the signer certificate');
  }

  const attrs = [
    new Attribute({ attrType: id_contentType, attrValues: [AsnObjectIdentifierConverter.toASN(id_data).toBER(false)] }),
    new Attribute({ attrType: id_signingTime, attrValues: [AsnConvert.serialize(new SigningTime(signingTime))] }),
    new Attribute({ attrType: id_messageDigest, attrValues: [AsnConvert.serialize(new OctetString(toArrayBuffer(contentSha256)))] }),
  ];
  const { sorted, der: signedAttrsDer } = encodeSignedAttributes(attrs);
  const signature = sign(digestForKey(privateKey), signedAttrsDer, privateKey);

  const signerInfo = new SignerInfo({
    version: CMSVersion.v1,
    sid: new SignerIdentifier({
      issuerAndSerialNumber: new IssuerAndSerialNumber({ issuer: cert.tbsCertificate.issuer, serialNumber: cert.tbsCertificate.serialNumber }),
    }),
    digestAlgorithm: new DigestAlgorithmIdentifier({ algorithm: OID.sha256 }),
    signedAttrs: sorted,
    signatureAlgorithm: signatureAlgorithmFor(privateKey, 'cms'),
    signature: new OctetString(toArrayBuffer(signature)),
  });
  return { signerInfo, certsDer: [certDer, ...chainDer] };
}

/**
 * Adds a second signer to a signed image (the operator countersigning the vendor's NOS):
 * one more SignerInfo over the same bytes in the same CMS, as `openssl cms -resign` does.
 * The existing signature must cover exactly this image's header and payload.
 */
export async function countersignImage(image: string, key: SigningKey, out: string, opts: { signingTime?: Date } = {}): Promise<SignedImage> {
  const signedBytes = await signedRangeOf(image);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(image, { start: 0, end: signedBytes - 1 })) hash.update(chunk as Buffer);
  const contentSha256 = hash.digest();
  const tail: Buffer[] = [];
  for await (const chunk of createReadStream(image, { start: signedBytes })) tail.push(chunk as Buffer);
  const block = pemDecodeAll(Buffer.concat(tail).toString('latin1'))[0];
  if (!block) throw new BootlabError('BL_SIGN_INPUT', `${image}: no PEM signature after the payload to countersign`);
  let signedData: SignedData;
  try {
    const info = AsnConvert.parse(block.der, ContentInfo);
    if (info.contentType !== id_signedData) throw new Error(`content type ${info.contentType} is not signedData`);
    signedData = AsnConvert.parse(info.content, SignedData);
  } catch (e) {
    throw new BootlabError('BL_SIGN_INPUT', `${image}: the signature after the payload is not a CMS SignedData: ${(e as Error).message}`);
  }
  const covered = signedData.signerInfos.every((si) => {
    const md = si.signedAttrs?.find((a) => a.attrType === id_messageDigest)?.attrValues[0];
    return md !== undefined && Buffer.from(AsnConvert.parse(md, OctetString).buffer).equals(contentSha256);
  });
  if (!covered) throw new BootlabError('BL_SIGN_INPUT', `${image}: the existing signature does not cover this image's header and payload; countersigning it would sign something else`);
  const { signerInfo, certsDer } = signerInfoFor(contentSha256, key, opts.signingTime ?? new Date());
  const have = (signedData.certificates ?? []).map((c) => (c.certificate ? Buffer.from(AsnConvert.serialize(c.certificate)) : Buffer.alloc(0)));
  const added = certsDer.filter((der) => !have.some((h) => h.equals(der)));
  signedData.certificates = new CertificateSet([
    ...(signedData.certificates ?? []),
    ...added.map((der) => new CertificateChoices({ certificate: AsnConvert.parse(der, Certificate) })),
  ]);
  signedData.signerInfos = new SignerInfos([...signedData.signerInfos, signerInfo]);
  const cms = Buffer.from(AsnConvert.serialize(new ContentInfo({ contentType: id_signedData, content: AsnConvert.serialize(signedData) })));
  const armoured = Buffer.from(pemEncode('CMS', cms), 'latin1');
  await writeFileAtomically(out, 0o755, async (append) => {
    for await (const chunk of createReadStream(image, { start: 0, end: signedBytes - 1 })) await append(chunk as Buffer);
    await append(armoured);
  });
  return { path: out, signedBytes, signer: subjectLine(new X509Certificate(key.certPem)) };
}

/** Header through exit_marker plus payload_image_size: what SONiC's verify_image_sign.sh feeds openssl. */
async function signedRangeOf(image: string): Promise<number> {
  const fh = await open(image, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(SHARCH_MAX_HEADER_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  const layout = parseSharchHeader(head);
  if (!layout.ok) throw new BootlabError('BL_IMAGE_LAYOUT', `${image}: not a sharch installer image: ${layout.error.message}`, { cause: layout.error });
  const signedBytes = layout.value.headerLength + layout.value.payloadSize;
  const { size } = await stat(image);
  if (size < signedBytes) throw new BootlabError('BL_IMAGE_TRUNCATED', `${image}: ${size} bytes, but its header declares ${signedBytes}`);
  return signedBytes;
}

function firstCertificate(text: string, what: string): Buffer {
  const block = pemDecodeAll(text).find((b) => b.label === 'CERTIFICATE');
  if (!block) throw new BootlabError('BL_SIGN_INPUT', `${what}: no PEM CERTIFICATE block`);
  return block.der;
}

function samePublicKey(privateKey: ReturnType<typeof createPrivateKey>, cert: X509Certificate): boolean {
  const a = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  const b = cert.publicKey.export({ type: 'spki', format: 'der' });
  return a.equals(b);
}
