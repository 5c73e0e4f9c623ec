import { DecodeError, EncodeError } from '../../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { ByteWriter } from '../bytes/writer.js';
import { ok, type Result } from '../result.js';
import { TPM_ALG_ID, hashAlgFromId, type HashAlg } from '../tcg/hash-alg.js';
import { catchDecodeError } from '../bytes/catch-decode.js';

/** Banks in TPML order; PCR indices ascend within a bank (that is the order a quote hashes them in). */
export type PcrSelection = Array<{ alg: HashAlg; pcrs: number[] }>;

const PROTO = 'tpm2-pcr-selection';
/** 24 PCRs need a 3-byte bitmap (PCR_SELECT_MAX on a PC Client TPM). */
export const PCR_SELECT_SIZE = 3;
/** HASH_COUNT bound tpm2-tools uses for TPML_PCR_SELECTION. */
export const MAX_PCR_BANKS = 16;

/** Sorted, de-duplicated and range-checked; bank order is kept because it is significant. */
export function normalizeSelection(sel: ReadonlyArray<{ alg: HashAlg; pcrs: readonly number[] }>): PcrSelection {
  if (sel.length > MAX_PCR_BANKS) throw new EncodeError(PROTO, 'count', `${sel.length} banks, at most ${MAX_PCR_BANKS}`);
  const seen = new Set<HashAlg>();
  return sel.map(({ alg, pcrs }) => {
    if (TPM_ALG_ID[alg] === undefined) throw new EncodeError(PROTO, 'hash', `unknown bank ${String(alg)}`);
    if (seen.has(alg)) throw new EncodeError(PROTO, 'hash', `bank ${alg} selected twice`);
    seen.add(alg);
    for (const p of pcrs) {
      if (!Number.isInteger(p) || p < 0 || p >= PCR_SELECT_SIZE * 8) {
        throw new EncodeError(PROTO, `${alg}.pcrSelect`, `${p} is not a PCR (0–${PCR_SELECT_SIZE * 8 - 1})`);
      }
    }
    return { alg, pcrs: [...new Set(pcrs)].sort((a, b) => a - b) };
  });
}

export function pcrBitmap(pcrs: readonly number[], size = PCR_SELECT_SIZE): Buffer {
  const bm = Buffer.alloc(size);
  for (const p of pcrs) bm[p >> 3]! |= 1 << (p & 7);
  return bm;
}

export function pcrsFromBitmap(bm: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < bm.length * 8; i++) if ((bm[i >> 3]! >> (i & 7)) & 1) out.push(i);
  return out;
}

/** TPML_PCR_SELECTION, big-endian. */
export function writePcrSelection(w: ByteWriter, sel: ReadonlyArray<{ alg: HashAlg; pcrs: readonly number[] }>): void {
  const norm = normalizeSelection(sel);
  w.u32(norm.length);
  for (const { alg, pcrs } of norm) w.u16(TPM_ALG_ID[alg]).u8(PCR_SELECT_SIZE).bytes(pcrBitmap(pcrs));
}

export function readPcrSelection(r: ByteReader, field = 'pcrSelect'): PcrSelection {
  const countAt = r.offset;
  const count = r.u32(`${field}.count`);
  if (count > MAX_PCR_BANKS) r.fail('limit', `${field}.count`, `${count} banks, at most ${MAX_PCR_BANKS}`, countAt);
  const out: PcrSelection = [];
  for (let i = 0; i < count; i++) {
    const algAt = r.offset;
    const id = r.u16(`${field}[${i}].hash`);
    const alg = hashAlgFromId(id);
    if (!alg) r.fail('unsupported', `${field}[${i}].hash`, `TPM_ALG_ID 0x${id.toString(16).padStart(4, '0')}`, algAt);
    if (out.some((s) => s.alg === alg)) r.fail('malformed', `${field}[${i}].hash`, `bank ${alg} selected twice`, algAt);
    const sizeAt = r.offset;
    const size = r.u8(`${field}[${i}].sizeofSelect`);
    if (size > PCR_SELECT_SIZE) {
      r.fail('unsupported', `${field}[${i}].sizeofSelect`, `${size} bytes; this TPM has ${PCR_SELECT_SIZE * 8} PCRs`, sizeAt);
    }
    out.push({ alg, pcrs: pcrsFromBitmap(r.bytes(size, `${field}[${i}].pcrSelect`)) });
  }
  return out;
}

export function encodePcrSelection(sel: ReadonlyArray<{ alg: HashAlg; pcrs: readonly number[] }>): Buffer {
  const w = new ByteWriter(64);
  writePcrSelection(w, sel);
  return w.finish();
}

export function decodePcrSelection(buf: Uint8Array): Result<PcrSelection, DecodeError> {
  return catchDecodeError(() => {
    const r: ByteReader = new ByteReader(buf, PROTO);
    const sel = readPcrSelection(r);
    if (r.remaining > 0) r.fail('malformed', 'pcrSelect', `${r.remaining} bytes after the selection`);
    return ok(sel);
  });
}

/** Same banks in the same order, and the same PCRs in each (order and duplicates aside). */
export function selectionsEqual(
  a: ReadonlyArray<{ alg: HashAlg; pcrs: readonly number[] }>,
  b: ReadonlyArray<{ alg: HashAlg; pcrs: readonly number[] }>,
): boolean {
  const key = (s: ReadonlyArray<{ alg: HashAlg; pcrs: readonly number[] }>): string =>
    s.map(({ alg, pcrs }) => `${alg}:${[...new Set(pcrs)].sort((x, y) => x - y).join(',')}`).join('+');
  return key(a) === key(b);
}

export function formatSelection(s: ReadonlyArray<{ alg: HashAlg; pcrs: readonly number[] }>): string {
  return s.map(({ alg, pcrs }) => `${alg}:${pcrs.join(',')}`).join('+') || '(empty)';
}
