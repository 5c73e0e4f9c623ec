import { DecodeError, EncodeError } from '../../errors.js';
import { ByteReader } from '../bytes/reader.js';
import { ok, type Result } from '../result.js';
import { DIGEST_SIZE, TPM_ALG_ID, hashAlgFromId } from '../tcg/hash-alg.js';
import { MAX_PCR_BANKS, PCR_SELECT_SIZE, normalizeSelection, pcrBitmap, pcrsFromBitmap, type PcrSelection } from './pcr-selection.js';
import type { HashAlg } from '../tcg/hash-alg.js';
import { catchDecodeError } from '../bytes/catch-decode.js';

/**
 * The "serialized" PCR file of `tpm2_quote -o` / `tpm2_checkquote -f` (tpm.md §2.5 item 2): a
 * little-endian dump of tpm2-tools' C structs, so every slot has a fixed size.
 *
 *   u32 count | 16 × {u16 hash, u8 sizeofSelect, u8 pcrSelect[4], u8 pad}      (136 bytes with k)
 *   u32 k     | k × {u32 count, 8 × {u16 size, u8 buffer[64]}}                  (532 bytes each)
 */

const PROTO = 'tpm2-pcrs-file';
const SELECTION_SLOT = 8;
const HEADER_SIZE = 4 + MAX_PCR_BANKS * SELECTION_SLOT + 4;
const DIGESTS_PER_LIST = 8;
const DIGEST_SLOT = 2 + 64;
const LIST_SIZE = 4 + DIGESTS_PER_LIST * DIGEST_SLOT;
/** TPM2_MAX_PCRS: how many TPML_DIGEST lists tpm2-tools' struct has room for. */
const MAX_LISTS = 32;

export interface PcrsFile {
  selection: PcrSelection;
  /** Values in selection order: banks in order, PCRs ascending within a bank. */
  values: Uint8Array[];
}

export function pcrsFileSize(digestCount: number): number {
  return HEADER_SIZE + Math.ceil(digestCount / DIGESTS_PER_LIST) * LIST_SIZE;
}

export function encodePcrsFile(
  selection: ReadonlyArray<{ alg: HashAlg; pcrs: readonly number[] }>,
  values: readonly Uint8Array[],
): Buffer {
  const sel = normalizeSelection(selection);
  const expected = sel.flatMap(({ alg, pcrs }) => pcrs.map(() => alg));
  if (values.length !== expected.length) {
    throw new EncodeError(PROTO, 'values', `${values.length} values for ${expected.length} selected PCRs`);
  }
  expected.forEach((alg, i) => {
    if (values[i]!.length !== DIGEST_SIZE[alg]) throw new EncodeError(PROTO, `values[${i}]`, `${values[i]!.length} bytes, ${alg} needs ${DIGEST_SIZE[alg]}`);
  });
  const lists = Math.ceil(values.length / DIGESTS_PER_LIST);
  if (lists > MAX_LISTS) throw new EncodeError(PROTO, 'values', `more than ${MAX_LISTS * DIGESTS_PER_LIST} values`);
  const out = Buffer.alloc(pcrsFileSize(values.length));
  out.writeUInt32LE(sel.length, 0);
  sel.forEach(({ alg, pcrs }, i) => {
    const at = 4 + i * SELECTION_SLOT;
    out.writeUInt16LE(TPM_ALG_ID[alg], at);
    out.writeUInt8(PCR_SELECT_SIZE, at + 2);
    pcrBitmap(pcrs).copy(out, at + 3);
  });
  out.writeUInt32LE(lists, HEADER_SIZE - 4);
  for (let l = 0; l < lists; l++) {
    const chunk = values.slice(l * DIGESTS_PER_LIST, (l + 1) * DIGESTS_PER_LIST);
    const at = HEADER_SIZE + l * LIST_SIZE;
    out.writeUInt32LE(chunk.length, at);
    chunk.forEach((v, j) => {
      out.writeUInt16LE(v.length, at + 4 + j * DIGEST_SLOT);
      out.set(v, at + 4 + j * DIGEST_SLOT + 2);
    });
  }
  return out;
}

export function decodePcrsFile(buf: Uint8Array): Result<PcrsFile, DecodeError> {
  return catchDecodeError(() => {
    const r: ByteReader = new ByteReader(buf, PROTO);
    const countAt = r.offset;
    const count = r.u32le('pcrSelections.count');
    if (count > MAX_PCR_BANKS) r.fail('malformed', 'pcrSelections.count', `${count} banks, at most ${MAX_PCR_BANKS}`, countAt);
    const selection: PcrSelection = [];
    for (let i = 0; i < MAX_PCR_BANKS; i++) {
      const slot: ByteReader = r.sub(SELECTION_SLOT, `pcrSelections[${i}]`);
      if (i >= count) continue;
      const algAt = slot.offset;
      const id = slot.u16le(`pcrSelections[${i}].hash`);
      const alg = hashAlgFromId(id);
      if (!alg) slot.fail('unsupported', `pcrSelections[${i}].hash`, `TPM_ALG_ID 0x${id.toString(16).padStart(4, '0')}`, algAt);
      if (selection.some((s) => s.alg === alg)) slot.fail('malformed', `pcrSelections[${i}].hash`, `bank ${alg} twice`, algAt);
      const sizeAt = slot.offset;
      const size = slot.u8(`pcrSelections[${i}].sizeofSelect`);
      if (size > 4) slot.fail('malformed', `pcrSelections[${i}].sizeofSelect`, `${size} > 4`, sizeAt);
      selection.push({ alg, pcrs: pcrsFromBitmap(slot.bytes(size, `pcrSelections[${i}].pcrSelect`)) });
    }
    const kAt = r.offset;
    const k = r.u32le('pcrValues.count');
    if (k > MAX_LISTS) r.fail('malformed', 'pcrValues.count', `${k} lists, at most ${MAX_LISTS}`, kAt);
    if (r.remaining !== k * LIST_SIZE) {
      r.fail('malformed', 'pcrValues', `${k} lists need ${k * LIST_SIZE} bytes, ${r.remaining} follow`, kAt);
    }
    const values: Uint8Array[] = [];
    const valueAt: number[] = [];
    for (let l = 0; l < k; l++) {
      const list: ByteReader = r.sub(LIST_SIZE, `pcrValues[${l}]`);
      const nAt = list.offset;
      const n = list.u32le(`pcrValues[${l}].count`);
      if (n > DIGESTS_PER_LIST) list.fail('malformed', `pcrValues[${l}].count`, `${n} digests, at most ${DIGESTS_PER_LIST}`, nAt);
      for (let j = 0; j < n; j++) {
        const slot: ByteReader = list.sub(DIGEST_SLOT, `pcrValues[${l}].digests[${j}]`);
        const sAt = slot.offset;
        const size = slot.u16le(`pcrValues[${l}].digests[${j}].size`);
        if (size > 64) slot.fail('malformed', `pcrValues[${l}].digests[${j}].size`, `${size} > 64`, sAt);
        valueAt.push(sAt);
        values.push(slot.bytes(size, `pcrValues[${l}].digests[${j}].buffer`));
      }
    }
    const algs = selection.flatMap(({ alg, pcrs }) => pcrs.map(() => alg));
    if (algs.length !== values.length) {
      r.fail('malformed', 'pcrValues', `${values.length} values for ${algs.length} selected PCRs`, kAt);
    }
    algs.forEach((alg, i) => {
      if (values[i]!.length !== DIGEST_SIZE[alg]) {
        r.fail('malformed', `pcrValues.digest[${i}].size`, `${values[i]!.length} bytes, ${alg} needs ${DIGEST_SIZE[alg]}`, valueAt[i]);
      }
    });
    return ok({ selection, values });
  });
}
