import { constants, sign, verify, type KeyObject } from 'node:crypto';
import { DIGEST_SIZE, type HashAlg } from '../protocol/tcg/hash-alg.js';
import { encodeSignature, type Tpm2Signature } from '../protocol/tpm2/signature.js';

/** Signing and verifying as a TPM does: the signature covers H(message), packed as TPMT_SIGNATURE. */

const CURVE_BYTES: Readonly<Record<string, number>> = { prime256v1: 32, secp384r1: 48, secp521r1: 66 };
/** SHA-1 signatures over attestation data are forgeable in principle; a strict verifier refuses them. */
export const ACCEPTED_SIGNATURE_HASHES: readonly HashAlg[] = ['sha256', 'sha384'];

/** RSASSA (or RSAPSS with saltLen = hash size) for RSA keys, ECDSA with r and s padded to the curve size for EC keys. */
export function signTpm2(key: KeyObject, message: Uint8Array, hash: HashAlg = 'sha256', rsaScheme: 'rsassa' | 'rsapss' = 'rsassa'): Buffer {
  if (key.asymmetricKeyType === 'ec') {
    const size = curveBytes(key);
    const rs = sign(hash, message, { key, dsaEncoding: 'ieee-p1363' });
    return encodeSignature({ sigAlg: 'ecdsa', hash, r: rs.subarray(0, size), s: rs.subarray(size) });
  }
  if (key.asymmetricKeyType !== 'rsa') throw new TypeError(`cannot sign with a ${String(key.asymmetricKeyType)} key`);
  const sig =
    rsaScheme === 'rsassa'
      ? sign(hash, message, key)
      : sign(hash, message, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: DIGEST_SIZE[hash] });
  return encodeSignature({ sigAlg: rsaScheme, hash, sig });
}

export type SignatureVerdict = { ok: true } | { ok: false; detail: string };

/** Checks the scheme fits the key before any maths: an RSASSA signature never verifies with an EC key. */
export function verifyTpm2Signature(key: KeyObject, message: Uint8Array, sig: Tpm2Signature): SignatureVerdict {
  if (!ACCEPTED_SIGNATURE_HASHES.includes(sig.hash)) return { ok: false, detail: `${sig.hash} signatures are not accepted` };
  const keyType = key.asymmetricKeyType;
  if (sig.sigAlg === 'ecdsa') {
    if (keyType !== 'ec') return { ok: false, detail: `an ECDSA signature cannot come from a ${String(keyType)} key` };
    const size = curveBytes(key);
    if (sig.r.length > size || sig.s.length > size) return { ok: false, detail: `r or s longer than the ${size}-byte curve order` };
    const rs = Buffer.concat([leftPad(sig.r, size), leftPad(sig.s, size)]);
    return verify(sig.hash, message, { key, dsaEncoding: 'ieee-p1363' }, rs) ? { ok: true } : { ok: false, detail: 'ECDSA signature does not verify' };
  }
  if (keyType !== 'rsa') return { ok: false, detail: `an ${sig.sigAlg.toUpperCase()} signature cannot come from a ${String(keyType)} key` };
  const good =
    sig.sigAlg === 'rsassa'
      ? verify(sig.hash, message, key, sig.sig)
      : verify(sig.hash, message, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO }, sig.sig);
  return good ? { ok: true } : { ok: false, detail: `${sig.sigAlg.toUpperCase()} signature does not verify` };
}

function curveBytes(key: KeyObject): number {
  const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
  const size = CURVE_BYTES[curve];
  if (size === undefined) throw new TypeError(`unsupported curve ${curve}`);
  return size;
}

function leftPad(b: Uint8Array, size: number): Buffer {
  const out = Buffer.alloc(size);
  out.set(b, size - b.length);
  return out;
}
