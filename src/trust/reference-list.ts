import { createHash, sign, verify, X509Certificate } from 'node:crypto';
import { z } from 'zod';
import type { TrustStore } from './trust-store.js';
import { subjectLine } from './trust-store.js';

/** The tagged events of reference-list measurement: the list itself, and a stage not in it. */
export const TAG_REFERENCE_LIST = 0x444c5354; // 'DLST'
export const TAG_UNKNOWN_STAGE = 0x554e4b4e; // 'UNKN'

/**
 * A signed list of known-good stage digests (DIGLIM's idea, tpm.md §5): the device
 * measures the list once and extends a PCR only for stages that are not in it, so that
 * PCR's value depends on which list was trusted, not on which known stages ran or in
 * what order, and a verifier can compute it before any device boots.
 */
export interface ReferenceList {
  id: string;
  version: number;
  entries: Array<{ stage: string; name: string; sha256: string }>;
}

/** The list as it travels: canonical bytes, a signature over them, and the signer's certificate. */
export interface SignedReferenceList {
  list: ReferenceList;
  /** The exact bytes that were signed and are measured. */
  bytes: Buffer;
  signature: Buffer;
  certPem: string;
}

const listSchema = z
  .object({
    format: z.literal('bootlab-reference-list'),
    id: z.string().min(1),
    version: z.number().int().nonnegative(),
    alg: z.literal('sha256'),
    entries: z.array(z.object({ stage: z.string().min(1), name: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict()),
  })
  .strict();

/** Canonical JSON: fixed key order, entries sorted by digest, so equal lists sign and measure the same. */
export function encodeReferenceList(list: ReferenceList): Buffer {
  const entries = [...list.entries]
    .sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0))
    .map((e) => ({ stage: e.stage, name: e.name, sha256: e.sha256 }));
  return Buffer.from(JSON.stringify({ format: 'bootlab-reference-list', id: list.id, version: list.version, alg: 'sha256', entries }));
}

export function signReferenceList(list: ReferenceList, signer: { keyPem: string; certPem: string }): SignedReferenceList {
  const bytes = encodeReferenceList(list);
  return { list: decodeList(bytes), bytes, signature: sign('sha256', bytes, signer.keyPem), certPem: signer.certPem };
}

export type ReferenceListVerdict =
  | { ok: true; list: ReferenceList; sha256: Buffer; signer: string; authority: string }
  | { ok: false; reason: 'malformed' | 'bad-signature' | 'untrusted-signer'; detail: string };

/** The device's check before it loads a list: well-formed, signed by its certificate, and that certificate vouched for by db. */
export function verifyReferenceList(s: { bytes: Uint8Array; signature: Uint8Array; certPem: string }, trust: TrustStore): ReferenceListVerdict {
  let cert: X509Certificate;
  let list: ReferenceList;
  try {
    cert = new X509Certificate(s.certPem);
    list = decodeList(Buffer.from(s.bytes));
  } catch (e) {
    return { ok: false, reason: 'malformed', detail: (e as Error).message };
  }
  if (!verify('sha256', s.bytes, cert.publicKey, s.signature)) {
    return { ok: false, reason: 'bad-signature', detail: `the signature does not verify with "${subjectLine(cert)}"` };
  }
  const decision = trust.authorise(cert);
  if (!decision) return { ok: false, reason: 'untrusted-signer', detail: `"${subjectLine(cert)}" is not vouched for by db` };
  return {
    ok: true,
    list,
    sha256: createHash('sha256').update(s.bytes).digest(),
    signer: subjectLine(cert),
    authority: subjectLine(decision.authority),
  };
}

function decodeList(bytes: Buffer): ReferenceList {
  const r = listSchema.safeParse(JSON.parse(bytes.toString('utf8')));
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`reference list: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return { id: r.data.id, version: r.data.version, entries: r.data.entries };
}

/** Is this digest one of the list's stages? */
export function listedStage(list: ReferenceList, sha256: Uint8Array): ReferenceList['entries'][number] | undefined {
  const hex = Buffer.from(sha256).toString('hex');
  return list.entries.find((e) => e.sha256 === hex);
}

/** A signed list as one file: the signed bytes, the signature and the signer's certificate. */
export function encodeSignedReferenceList(s: SignedReferenceList): string {
  return `${JSON.stringify({ list: s.bytes.toString('utf8'), signature: s.signature.toString('base64'), certificate: s.certPem }, null, 2)}\n`;
}

export function decodeSignedReferenceList(text: string): { bytes: Buffer; signature: Buffer; certPem: string } {
  const r = z.object({ list: z.string(), signature: z.string().regex(/^[A-Za-z0-9+/=]+$/), certificate: z.string() }).strict().safeParse(JSON.parse(text));
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new Error(`signed reference list: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return { bytes: Buffer.from(r.data.list, 'utf8'), signature: Buffer.from(r.data.signature, 'base64'), certPem: r.data.certificate };
}
