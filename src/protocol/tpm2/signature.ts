import { DecodeError, EncodeError } from '../../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { ByteWriter } from '../bytes/writer.js';
import { ok, type Result } from '../result.js';
import { TPM_ALG_ID, hashAlgFromId, type HashAlg } from '../tcg/hash-alg.js';
import { readTpm2b } from './tpm2b.js';
import { catchDecodeError } from '../bytes/catch-decode.js';

/** TPMT_SIGNATURE (TPM 2.0 Part 2 §11.3.4), big-endian: sigAlg ‖ hashAlg ‖ scheme-specific body. */

export const TPM_ALG_RSASSA = 0x0014;
export const TPM_ALG_RSAPSS = 0x0016;
export const TPM_ALG_ECDSA = 0x0018;
/** MAX_RSA_KEY_BYTES for RSA-4096, and the largest ECC parameter (P-521). */
export const MAX_RSA_SIG_SIZE = 512;
export const MAX_ECC_PARAM_SIZE = 66;

const PROTO = 'tpm2-signature';

export type Tpm2Signature =
  | { sigAlg: 'rsassa' | 'rsapss'; hash: HashAlg; sig: Uint8Array }
  | { sigAlg: 'ecdsa'; hash: HashAlg; r: Uint8Array; s: Uint8Array };

export function encodeSignature(s: Tpm2Signature): Buffer {
  const w = new ByteWriter(300);
  if (s.sigAlg === 'ecdsa') {
    for (const [name, v] of [['r', s.r], ['s', s.s]] as const) {
      if (v.length > MAX_ECC_PARAM_SIZE) throw new EncodeError(PROTO, name, `${v.length} bytes, at most ${MAX_ECC_PARAM_SIZE}`);
    }
    return w.u16(TPM_ALG_ECDSA).u16(TPM_ALG_ID[s.hash]).u16(s.r.length).bytes(s.r).u16(s.s.length).bytes(s.s).finish();
  }
  if (s.sig.length > MAX_RSA_SIG_SIZE) throw new EncodeError(PROTO, 'sig', `${s.sig.length} bytes, at most ${MAX_RSA_SIG_SIZE}`);
  return w
    .u16(s.sigAlg === 'rsassa' ? TPM_ALG_RSASSA : TPM_ALG_RSAPSS)
    .u16(TPM_ALG_ID[s.hash])
    .u16(s.sig.length)
    .bytes(s.sig)
    .finish();
}

export function decodeSignature(buf: Uint8Array): Result<Tpm2Signature, DecodeError> {
  return catchDecodeError(() => {
    const r: ByteReader = new ByteReader(buf, PROTO);
    const algAt = r.offset;
    const alg = r.u16('sigAlg');
    if (alg !== TPM_ALG_RSASSA && alg !== TPM_ALG_RSAPSS && alg !== TPM_ALG_ECDSA) {
      r.fail('unsupported', 'sigAlg', `TPM_ALG_ID 0x${alg.toString(16).padStart(4, '0')}`, algAt);
    }
    const hashAt = r.offset;
    const hashId = r.u16('hash');
    const hash = hashAlgFromId(hashId);
    if (!hash) r.fail('unsupported', 'hash', `TPM_ALG_ID 0x${hashId.toString(16).padStart(4, '0')}`, hashAt);
    let sig: Tpm2Signature;
    if (alg === TPM_ALG_ECDSA) {
      const rr = readTpm2b(r, 'signatureR', MAX_ECC_PARAM_SIZE);
      const ss = readTpm2b(r, 'signatureS', MAX_ECC_PARAM_SIZE);
      sig = { sigAlg: 'ecdsa', hash, r: rr, s: ss };
    } else {
      sig = { sigAlg: alg === TPM_ALG_RSASSA ? 'rsassa' : 'rsapss', hash, sig: readTpm2b(r, 'sig', MAX_RSA_SIG_SIZE) };
    }
    if (r.remaining > 0) r.fail('malformed', 'signature', `${r.remaining} bytes after the signature`);
    return ok(sig);
  });
}

