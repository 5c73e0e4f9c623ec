import { DecodeError, EncodeError } from '../../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { ByteWriter } from '../bytes/writer.js';
import { ok, type Result } from '../result.js';
import type { HashAlg } from '../tcg/hash-alg.js';
import { readPcrSelection, writePcrSelection, type PcrSelection } from './pcr-selection.js';
import { readTpm2b } from './tpm2b.js';
import { catchDecodeError } from '../bytes/catch-decode.js';

/** TPMS_ATTEST (TPM 2.0 Part 2 §10.12.12), big-endian. Only TPM2_Quote's attested form is decoded. */

export const TPM_GENERATED_VALUE = 0xff544347;
export const TPM_ST_ATTEST_QUOTE = 0x8018;
/** sizeof(TPMT_HA) with SHA-512: the most a TPM2B_NAME or TPM2B_DATA holds. */
export const MAX_NAME_SIZE = 66;
export const MAX_DATA_SIZE = 66;
export const MAX_DIGEST_SIZE = 64;

const PROTO = 'tpm2-attest';

export interface ClockInfo {
  /** Milliseconds the TPM has been powered, kept across resets. */
  clock: bigint;
  resetCount: number;
  restartCount: number;
  /** TPMI_YES_NO as read: 1 when clock cannot have gone backwards since it was last reported. */
  safe: number;
}

export type Tpm2Attested =
  | { kind: 'quote'; pcrSelect: PcrSelection; pcrDigest: Uint8Array }
  /** Any other attestation type, kept raw so a verifier can say what it got. */
  | { kind: 'other'; raw: Uint8Array };

export interface Tpm2Attest {
  magic: number;
  type: number;
  qualifiedSigner: Uint8Array;
  extraData: Uint8Array;
  clockInfo: ClockInfo;
  firmwareVersion: bigint;
  attested: Tpm2Attested;
}

export interface QuoteAttestInput {
  qualifiedSigner: Uint8Array;
  extraData: Uint8Array;
  clockInfo: ClockInfo;
  firmwareVersion: bigint;
  pcrSelect: ReadonlyArray<{ alg: HashAlg; pcrs: readonly number[] }>;
  pcrDigest: Uint8Array;
}

/** TPMS_ATTEST for TPM2_Quote: what the AK signs (without the TPM2B_ATTEST size prefix). */
export function encodeQuoteAttest(a: QuoteAttestInput): Buffer {
  tpm2bBound('qualifiedSigner', a.qualifiedSigner, MAX_NAME_SIZE);
  tpm2bBound('extraData', a.extraData, MAX_DATA_SIZE);
  tpm2bBound('pcrDigest', a.pcrDigest, MAX_DIGEST_SIZE);
  if (a.clockInfo.safe !== 0 && a.clockInfo.safe !== 1) throw new EncodeError(PROTO, 'clockInfo.safe', 'must be 0 or 1');
  const w = new ByteWriter(160)
    .u32(TPM_GENERATED_VALUE)
    .u16(TPM_ST_ATTEST_QUOTE)
    .u16(a.qualifiedSigner.length)
    .bytes(a.qualifiedSigner)
    .u16(a.extraData.length)
    .bytes(a.extraData)
    .u64(a.clockInfo.clock)
    .u32(a.clockInfo.resetCount)
    .u32(a.clockInfo.restartCount)
    .u8(a.clockInfo.safe)
    .u64(a.firmwareVersion);
  writePcrSelection(w, a.pcrSelect);
  return w.u16(a.pcrDigest.length).bytes(a.pcrDigest).finish();
}

/** Decodes without judging: magic and type are reported as found, for the verifier to check. */
export function decodeAttest(buf: Uint8Array): Result<Tpm2Attest, DecodeError> {
  return catchDecodeError(() => {
    const r: ByteReader = new ByteReader(buf, PROTO);
    const magic = r.u32('magic');
    const type = r.u16('type');
    const qualifiedSigner = readTpm2b(r, 'qualifiedSigner', MAX_NAME_SIZE);
    const extraData = readTpm2b(r, 'extraData', MAX_DATA_SIZE);
    const clock = r.u64('clockInfo.clock');
    const resetCount = r.u32('clockInfo.resetCount');
    const restartCount = r.u32('clockInfo.restartCount');
    const safeAt = r.offset;
    const safe = r.u8('clockInfo.safe');
    if (safe > 1) r.fail('malformed', 'clockInfo.safe', `TPMI_YES_NO is 0 or 1, got ${safe}`, safeAt);
    const firmwareVersion = r.u64('firmwareVersion');
    let attested: Tpm2Attested;
    if (type === TPM_ST_ATTEST_QUOTE) {
      const pcrSelect = readPcrSelection(r, 'attested.quote.pcrSelect');
      const pcrDigest = readTpm2b(r, 'attested.quote.pcrDigest', MAX_DIGEST_SIZE);
      if (r.remaining > 0) r.fail('malformed', 'attested', `${r.remaining} bytes after TPMS_QUOTE_INFO`);
      attested = { kind: 'quote', pcrSelect, pcrDigest };
    } else {
      attested = { kind: 'other', raw: r.bytes(r.remaining, 'attested') };
    }
    return ok({ magic, type, qualifiedSigner, extraData, clockInfo: { clock, resetCount, restartCount, safe }, firmwareVersion, attested });
  });
}

function tpm2bBound(field: string, b: Uint8Array, max: number): void {
  if (b.length > max) throw new EncodeError(PROTO, field, `${b.length} bytes, at most ${max}`);
}
