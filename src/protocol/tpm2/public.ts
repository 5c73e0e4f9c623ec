import { DecodeError, EncodeError } from '../../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { ByteWriter } from '../bytes/writer.js';
import { ok, type Result } from '../result.js';
import { DIGEST_SIZE, TPM_ALG_ID, hashAlgFromId, hashOf, type HashAlg } from '../tcg/hash-alg.js';
import { readTpm2b } from './tpm2b.js';
import { catchDecodeError } from '../bytes/catch-decode.js';

/**
 * TPMT_PUBLIC / TPM2B_PUBLIC (TPM 2.0 Part 2 §12.2), big-endian, for RSA and ECC keys, and
 * the object Name and qualified name derived from it (tpm.md §2.1, §2.2).
 */

export const TPM_ALG_RSA = 0x0001;
export const TPM_ALG_ECC = 0x0023;
export const TPM_ALG_NULL = 0x0010;
export const TPM_ALG_AES = 0x0006;
export const TPM_ALG_CFB = 0x0043;
export const TPM_ECC_NIST_P256 = 0x0003;

/** fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|restricted|sign — tpm2_createak's AK. */
export const AK_OBJECT_ATTRIBUTES = 0x00050072;
/** fixedTPM|fixedParent|sensitiveDataOrigin|adminWithPolicy|restricted|decrypt — the TCG EK template. */
export const EK_OBJECT_ATTRIBUTES = 0x000300b2;
/** TPM_RH_ENDORSEMENT: the endorsement hierarchy's handle, which is also its qualified name. */
export const TPM_RH_ENDORSEMENT = 0x4000000b;

const PROTO = 'tpm2-public';
/** Scheme and KDF algorithms whose details are exactly one hashAlg (RSASSA, RSAPSS, OAEP, ECDSA, ECDH, ECSCHNORR, MGF1, KDF1/2). */
const HASH_ONLY_SCHEMES = new Set([0x0014, 0x0016, 0x0017, 0x0018, 0x0019, 0x001c, 0x0007, 0x0020, 0x0021, 0x0022]);
const MAX_RSA_KEY_BYTES = 512;
const MAX_ECC_KEY_BYTES = 66;

export interface SymDefObject {
  alg: number;
  keyBits: number;
  mode: number;
}

export interface HashScheme {
  alg: number;
  hash: HashAlg;
}

interface TpmtPublicCommon {
  nameAlg: HashAlg;
  objectAttributes: number;
  authPolicy: Uint8Array;
  /** null = TPM_ALG_NULL (signing keys); restricted decryption keys carry AES-CFB here. */
  symmetric: SymDefObject | null;
  /** null = TPM_ALG_NULL. */
  scheme: HashScheme | null;
}

export type TpmtPublic = TpmtPublicCommon &
  (
    | { type: 'rsa'; keyBits: number; /** 0 means 65537 */ exponent: number; modulus: Uint8Array }
    | { type: 'ecc'; curveId: number; kdf: HashScheme | null; x: Uint8Array; y: Uint8Array }
  );

export type PublicKeyParams = { type: 'rsa'; modulus: Uint8Array; exponent?: number } | { type: 'ecc'; x: Uint8Array; y: Uint8Array };

/** The AK template of tpm.md §2.2: restricted signing key, RSASSA (or RSAPSS) or ECDSA with SHA-256. */
export function akPublic(key: PublicKeyParams, rsaScheme: 'rsassa' | 'rsapss' = 'rsassa'): TpmtPublic {
  const common = { nameAlg: 'sha256' as const, objectAttributes: AK_OBJECT_ATTRIBUTES, authPolicy: new Uint8Array(), symmetric: null };
  if (key.type === 'rsa') {
    return {
      ...common,
      type: 'rsa',
      scheme: { alg: rsaScheme === 'rsassa' ? 0x0014 : 0x0016, hash: 'sha256' },
      keyBits: key.modulus.length * 8,
      exponent: key.exponent === undefined || key.exponent === 65537 ? 0 : key.exponent,
      modulus: key.modulus,
    };
  }
  return { ...common, type: 'ecc', scheme: { alg: 0x0018, hash: 'sha256' }, curveId: TPM_ECC_NIST_P256, kdf: null, x: key.x, y: key.y };
}

/**
 * The TCG EK Credential Profile's default template (RSA 2048 / ECC P-256): restricted decryption
 * key with AES-128-CFB and the PolicySecret(TPM_RH_ENDORSEMENT) policy.
 */
export function ekPublic(key: PublicKeyParams): TpmtPublic {
  const common = {
    nameAlg: 'sha256' as const,
    objectAttributes: EK_OBJECT_ATTRIBUTES,
    authPolicy: Buffer.from('837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa', 'hex'),
    symmetric: { alg: TPM_ALG_AES, keyBits: 128, mode: TPM_ALG_CFB },
    scheme: null,
  };
  if (key.type === 'rsa') return { ...common, type: 'rsa', keyBits: 2048, exponent: 0, modulus: key.modulus };
  return { ...common, type: 'ecc', curveId: TPM_ECC_NIST_P256, kdf: null, x: key.x, y: key.y };
}

export function encodeTpmtPublic(p: TpmtPublic): Buffer {
  if (p.authPolicy.length > 64) throw new EncodeError(PROTO, 'authPolicy', `${p.authPolicy.length} bytes, at most 64`);
  const w = new ByteWriter(400)
    .u16(p.type === 'rsa' ? TPM_ALG_RSA : TPM_ALG_ECC)
    .u16(TPM_ALG_ID[p.nameAlg])
    .u32(p.objectAttributes)
    .u16(p.authPolicy.length)
    .bytes(p.authPolicy);
  if (p.symmetric) w.u16(p.symmetric.alg).u16(p.symmetric.keyBits).u16(p.symmetric.mode);
  else w.u16(TPM_ALG_NULL);
  writeHashScheme(w, p.scheme, 'scheme');
  if (p.type === 'rsa') {
    if (p.modulus.length > MAX_RSA_KEY_BYTES) throw new EncodeError(PROTO, 'unique.rsa', `${p.modulus.length} bytes`);
    w.u16(p.keyBits).u32(p.exponent).u16(p.modulus.length).bytes(p.modulus);
  } else {
    if (p.x.length > MAX_ECC_KEY_BYTES || p.y.length > MAX_ECC_KEY_BYTES) throw new EncodeError(PROTO, 'unique.ecc', 'point too large');
    w.u16(p.curveId);
    writeHashScheme(w, p.kdf, 'kdf');
    w.u16(p.x.length).bytes(p.x).u16(p.y.length).bytes(p.y);
  }
  return w.finish();
}

/** TPM2B_PUBLIC: u16 size ‖ TPMT_PUBLIC (the form tpm2_loadexternal -u and tpm2_checkquote -u read). */
export function encodeTpm2bPublic(p: TpmtPublic): Buffer {
  const t = encodeTpmtPublic(p);
  return new ByteWriter(t.length + 2).u16(t.length).bytes(t).finish();
}

export function decodeTpm2bPublic(buf: Uint8Array): Result<TpmtPublic, DecodeError> {
  return catchDecodeError(() => {
    const r: ByteReader = new ByteReader(buf, PROTO);
    const sizeAt = r.offset;
    const size = r.u16('size');
    if (size !== r.remaining) r.fail('malformed', 'size', `says ${size}, ${r.remaining} bytes follow`, sizeAt);
    return ok(readTpmtPublic(r));
  });
}

export function decodeTpmtPublic(buf: Uint8Array): Result<TpmtPublic, DecodeError> {
  return catchDecodeError(() => ok(readTpmtPublic(new ByteReader(buf, PROTO))));
}

function readTpmtPublic(r: ByteReader): TpmtPublic {
  const typeAt = r.offset;
  const type = r.u16('type');
  if (type !== TPM_ALG_RSA && type !== TPM_ALG_ECC) r.fail('unsupported', 'type', `TPM_ALG_ID 0x${hex4(type)}`, typeAt);
  const nameAlg = readHash(r, 'nameAlg');
  const objectAttributes = r.u32('objectAttributes');
  const polAt = r.offset;
  const polSize = r.u16('authPolicy.size');
  if (polSize > 64) r.fail('malformed', 'authPolicy.size', `${polSize} bytes, at most 64`, polAt);
  const authPolicy = r.bytes(polSize, 'authPolicy');
  const symAt = r.offset;
  const symAlg = r.u16('symmetric.algorithm');
  let symmetric: SymDefObject | null = null;
  if (symAlg === TPM_ALG_AES) symmetric = { alg: symAlg, keyBits: r.u16('symmetric.keyBits'), mode: r.u16('symmetric.mode') };
  else if (symAlg !== TPM_ALG_NULL) r.fail('unsupported', 'symmetric.algorithm', `TPM_ALG_ID 0x${hex4(symAlg)}`, symAt);
  const scheme = readHashScheme(r, 'scheme');
  let out: TpmtPublic;
  if (type === TPM_ALG_RSA) {
    const keyBits = r.u16('keyBits');
    const exponent = r.u32('exponent');
    const modulus = readTpm2b(r, 'unique.rsa', MAX_RSA_KEY_BYTES);
    out = { type: 'rsa', nameAlg, objectAttributes, authPolicy, symmetric, scheme, keyBits, exponent, modulus };
  } else {
    const curveId = r.u16('curveID');
    const kdf = readHashScheme(r, 'kdf');
    const x = readTpm2b(r, 'unique.ecc.x', MAX_ECC_KEY_BYTES);
    const y = readTpm2b(r, 'unique.ecc.y', MAX_ECC_KEY_BYTES);
    out = { type: 'ecc', nameAlg, objectAttributes, authPolicy, symmetric, scheme, curveId, kdf, x, y };
  }
  if (r.remaining > 0) r.fail('malformed', 'unique', `${r.remaining} bytes after TPMT_PUBLIC`);
  return out;
}

/** Name = nameAlg ‖ H_nameAlg(TPMT_PUBLIC). */
export function objectName(p: TpmtPublic): Buffer {
  return Buffer.concat([algBytes(p.nameAlg), hashOf(p.nameAlg, encodeTpmtPublic(p))]);
}

/** QN(child) = nameAlg ‖ H_nameAlg(QN(parent) ‖ Name(child)); a hierarchy's QN is its 4-byte handle. */
export function qualifiedName(parentQn: Uint8Array, childName: Uint8Array, nameAlg: HashAlg = 'sha256'): Buffer {
  return Buffer.concat([algBytes(nameAlg), hashOf(nameAlg, parentQn, childName)]);
}

export function hierarchyQualifiedName(handle: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(handle >>> 0);
  return b;
}

/** Checks a Name is nameAlg ‖ digest of the right size. */
export function isWellFormedName(name: Uint8Array): boolean {
  if (name.length < 2) return false;
  const alg = hashAlgFromId((name[0]! << 8) | name[1]!);
  return alg !== undefined && name.length === 2 + DIGEST_SIZE[alg];
}

function algBytes(alg: HashAlg): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(TPM_ALG_ID[alg]);
  return b;
}

function writeHashScheme(w: ByteWriter, s: HashScheme | null, field: string): void {
  if (!s) {
    w.u16(TPM_ALG_NULL);
    return;
  }
  if (!HASH_ONLY_SCHEMES.has(s.alg)) throw new EncodeError(PROTO, field, `scheme 0x${hex4(s.alg)} is not supported`);
  w.u16(s.alg).u16(TPM_ALG_ID[s.hash]);
}

function readHashScheme(r: ByteReader, field: string): HashScheme | null {
  const at = r.offset;
  const alg = r.u16(`${field}.scheme`);
  if (alg === TPM_ALG_NULL) return null;
  if (!HASH_ONLY_SCHEMES.has(alg)) r.fail('unsupported', `${field}.scheme`, `TPM_ALG_ID 0x${hex4(alg)}`, at);
  return { alg, hash: readHash(r, `${field}.hashAlg`) };
}

function readHash(r: ByteReader, field: string): HashAlg {
  const at = r.offset;
  const id = r.u16(field);
  const alg = hashAlgFromId(id);
  if (!alg) r.fail('unsupported', field, `TPM_ALG_ID 0x${hex4(id)}`, at);
  return alg;
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

