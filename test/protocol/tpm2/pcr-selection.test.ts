import { describe, expect, it } from 'vitest';
import {
  decodePcrSelection,
  encodePcrSelection,
  normalizeSelection,
  selectionsEqual,
} from '../../../src/protocol/tpm2/pcr-selection.js';

describe('TPML_PCR_SELECTION', () => {
  it('encodes a 3-byte bitmap with PCR i at byte i/8, bit i%8', () => {
    expect(encodePcrSelection([{ alg: 'sha256', pcrs: [0, 4, 5, 16] }]).toString('hex')).toBe('00000001' + '000b' + '03' + '310001');
  });

  it('keeps bank order and sorts PCRs on a round trip', () => {
    const b = encodePcrSelection([{ alg: 'sha256', pcrs: [12, 0, 9] }, { alg: 'sha1', pcrs: [23] }]);
    const r = decodePcrSelection(b);
    expect(r.ok && r.value).toEqual([{ alg: 'sha256', pcrs: [0, 9, 12] }, { alg: 'sha1', pcrs: [23] }]);
  });

  it('refuses PCRs outside 0–23 and a bank given twice', () => {
    expect(() => normalizeSelection([{ alg: 'sha256', pcrs: [24] }])).toThrow(/not a PCR/);
    expect(() => normalizeSelection([{ alg: 'sha1', pcrs: [0] }, { alg: 'sha1', pcrs: [1] }])).toThrow(/twice/);
  });

  it('reports an unknown hash and an oversized bitmap with their offsets', () => {
    const bad = Buffer.from('00000001' + '0012' + '03' + '010000', 'hex');
    let r = decodePcrSelection(bad);
    expect(!r.ok && [r.error.reason, r.error.field, r.error.offset]).toEqual(['unsupported', 'pcrSelect[0].hash', 4]);
    r = decodePcrSelection(Buffer.from('00000001' + '000b' + '04' + '01000000', 'hex'));
    expect(!r.ok && [r.error.reason, r.error.field, r.error.offset]).toEqual(['unsupported', 'pcrSelect[0].sizeofSelect', 6]);
    r = decodePcrSelection(Buffer.from('00000002' + '000b' + '03' + '010000', 'hex'));
    expect(!r.ok && [r.error.reason, r.error.field, r.error.offset]).toEqual(['truncated', 'pcrSelect[1].hash', 10]);
  });

  it('compares selections by bank order and PCR set', () => {
    expect(selectionsEqual([{ alg: 'sha256', pcrs: [4, 0] }], [{ alg: 'sha256', pcrs: [0, 4, 4] }])).toBe(true);
    expect(selectionsEqual([{ alg: 'sha256', pcrs: [0] }], [{ alg: 'sha256', pcrs: [0, 4] }])).toBe(false);
    expect(selectionsEqual([{ alg: 'sha1', pcrs: [0] }, { alg: 'sha256', pcrs: [0] }], [{ alg: 'sha256', pcrs: [0] }, { alg: 'sha1', pcrs: [0] }])).toBe(false);
  });
});
