import { createHash } from 'node:crypto';

/** The PCR banks and signing hashes bootlab speaks. */
export type HashAlg = 'sha1' | 'sha256' | 'sha384';

export const HASH_ALGS: readonly HashAlg[] = ['sha1', 'sha256', 'sha384'];

/** TPM_ALG_ID values (TPM 2.0 Part 2, Table 9). */
export const TPM_ALG_ID: Readonly<Record<HashAlg, number>> = { sha1: 0x0004, sha256: 0x000b, sha384: 0x000c };

export const DIGEST_SIZE: Readonly<Record<HashAlg, number>> = { sha1: 20, sha256: 32, sha384: 48 };

export function hashAlgFromId(id: number): HashAlg | undefined {
  return HASH_ALGS.find((a) => TPM_ALG_ID[a] === id);
}

export function isHashAlg(v: unknown): v is HashAlg {
  return typeof v === 'string' && (HASH_ALGS as readonly string[]).includes(v);
}

/**
 * H_alg(parts…). Only for digests a format defines (PCR extend, object Name, pcrDigest),
 * which is why a pure codec may use it.
 */
export function hashOf(alg: HashAlg, ...parts: readonly Uint8Array[]): Buffer {
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return h.digest();
}
