import type { X509Certificate } from 'node:crypto';
import { createHash } from 'node:crypto';
import { digestImageFile, formatVerdict, parseDetachedCms, verifyDigestedImage, type ImageVerdict } from '../trust/image-verifier.js';
import type { TrustStore } from '../trust/trust-store.js';
import { subjectLine } from '../trust/trust-store.js';

/** What `bootlab image inspect` reports: layout, digests, signers; a verdict only when given a db. */
export interface ImageInspection {
  size: number;
  kind: 'nos-installer' | 'onie-updater' | 'not-sharch';
  /** Why it is not a sharch image. */
  layoutError?: string;
  header?: { length: number };
  payload?: { offset: number; size: number; sha1Declared: string; sha1Actual?: string };
  sha256: string;
  /** Of header + payload: what a SONiC-style signature covers. */
  signedSha256?: string;
  trailer?: { bytes: number; signature?: SignatureInfo; error?: string };
  verdict?: ImageVerdict;
}

export interface SignatureInfo {
  format: 'PEM' | 'DER';
  /** SignerInfos in the CMS: 2 for a vendor signature with an operator countersignature. */
  signers?: number;
  digestAlgorithm: string;
  signatureAlgorithm: string;
  certificates: Array<{ subject: string; issuer: string; ca: boolean; validFrom: string; validTo: string; sha256: string }>;
}

/** Reads an image once, streaming; nothing is executed or extracted. */
export async function inspectImage(path: string, trust?: TrustStore): Promise<ImageInspection> {
  const d = await digestImageFile(path, { sha1: false });
  const out: ImageInspection = { size: d.size, kind: 'not-sharch', sha256: d.fileSha256.toString('hex') };
  if (!d.layout) {
    out.layoutError = d.layoutError?.message ?? 'no sharch header';
  } else {
    out.kind = d.layout.updaterCookie ? 'onie-updater' : 'nos-installer';
    out.header = { length: d.layout.headerLength };
    out.payload = {
      offset: d.layout.headerLength,
      size: d.layout.payloadSize,
      sha1Declared: d.layout.payloadSha1,
      ...(d.payloadSha1Actual !== undefined ? { sha1Actual: d.payloadSha1Actual } : {}),
    };
    if (d.signedSha256) out.signedSha256 = d.signedSha256.toString('hex');
    const end = d.layout.headerLength + d.layout.payloadSize;
    if (d.size > end) {
      out.trailer = { bytes: d.size - end };
      if (d.signatureError) out.trailer.error = d.signatureError.message;
      else if (d.signature) {
        const parsed = parseDetachedCms(d.signature);
        if (typeof parsed === 'string') out.trailer.error = parsed;
        else {
          const first = parsed.signerInfos[0]!;
          out.trailer.signature = { ...describe(d.signature, first.digestAlgorithm.algorithm, first.signatureAlgorithm.algorithm, parsed.certs), signers: parsed.signerInfos.length };
        }
      }
    }
  }
  if (trust) out.verdict = verifyDigestedImage(d, trust);
  return out;
}

function describe(sig: Buffer, digestOid: string, signatureOid: string, certs: X509Certificate[]): SignatureInfo {
  return {
    format: sig.subarray(0, 64).includes('-----BEGIN ') ? 'PEM' : 'DER',
    digestAlgorithm: OID_NAMES[digestOid] ?? digestOid,
    signatureAlgorithm: OID_NAMES[signatureOid] ?? signatureOid,
    certificates: certs.map((c) => ({
      subject: subjectLine(c),
      issuer: c.issuer.split('\n').filter(Boolean).join(', '),
      ca: c.ca,
      validFrom: new Date(c.validFrom).toISOString(),
      validTo: new Date(c.validTo).toISOString(),
      sha256: createHash('sha256').update(c.raw).digest('hex'),
    })),
  };
}

const OID_NAMES: Record<string, string> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '1.3.14.3.2.26': 'sha1',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.2.1': 'ecPublicKey (ECDSA)',
  '1.2.840.113549.1.1.1': 'rsaEncryption (RSASSA-PKCS1-v1_5)',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
};

/** The report as text, one fact a line. */
export function formatInspection(path: string, i: ImageInspection): string {
  const kind = { 'nos-installer': 'ONIE self-extracting NOS installer (sharch)', 'onie-updater': 'ONIE updater (sharch with ONIE-UPDATER-COOKIE)', 'not-sharch': 'not an ONIE sharch image' }[i.kind];
  const lines = [`${path}: ${i.size} bytes, ${kind}`];
  if (i.layoutError) lines.push(`  layout        ${i.layoutError}`);
  if (i.header && i.payload) {
    lines.push(`  header        bytes 0..${i.header.length}`);
    const sha1 =
      i.payload.sha1Actual === undefined
        ? `payload_sha1 ${i.payload.sha1Declared} (file too short to check)`
        : i.payload.sha1Actual === i.payload.sha1Declared
          ? `payload_sha1 ${i.payload.sha1Declared} (matches)`
          : `payload_sha1 ${i.payload.sha1Declared} DOES NOT MATCH the payload's ${i.payload.sha1Actual}`;
    lines.push(`  payload       bytes ${i.payload.offset}..${i.payload.offset + i.payload.size} (${i.payload.size} bytes, tar), ${sha1}`);
  }
  lines.push(`  sha256        ${i.sha256} (whole file)`);
  if (i.signedSha256) lines.push(`  sha256        ${i.signedSha256} (header + payload: what the signature covers)`);
  if (!i.trailer) lines.push(i.header ? '  signature     none (nothing follows the payload)' : '');
  else if (i.trailer.error) lines.push(`  signature     ${i.trailer.bytes} bytes after the payload, not usable: ${i.trailer.error}`);
  else if (i.trailer.signature) {
    const s = i.trailer.signature;
    lines.push(`  signature     ${i.trailer.bytes} bytes after the payload: detached CMS SignedData (${s.format}), ${s.signers ?? 1} signer${(s.signers ?? 1) > 1 ? 's' : ''}, ${s.digestAlgorithm}, ${s.signatureAlgorithm}`);
    for (const c of s.certificates) {
      lines.push(`  certificate   "${c.subject}"${c.ca ? ' (CA)' : ''}, issued by "${c.issuer}", valid ${c.validFrom.slice(0, 10)} to ${c.validTo.slice(0, 10)}, sha256 ${c.sha256.slice(0, 16)}…`);
    }
  }
  if (i.verdict) lines.push(`  verdict       ${formatVerdict(i.verdict)}`);
  return `${lines.filter(Boolean).join('\n')}\n`;
}
