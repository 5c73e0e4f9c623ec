import { describe, expect, it } from 'vitest';
import { decodePcrsFile, encodePcrsFile, pcrsFileSize } from '../../../src/protocol/tpm2/pcrs-file.js';

const v = (n: number, size: number): Buffer => Buffer.alloc(size, n);

describe('serialized PCR file (tpm2_quote -o)', () => {
  it('is 668 bytes for up to 8 digests, laid out as little-endian C structs', () => {
    const sel = [{ alg: 'sha1' as const, pcrs: [0, 4, 5] }, { alg: 'sha256' as const, pcrs: [0, 4, 5, 9, 12] }];
    const values = [v(1, 20), v(2, 20), v(3, 20), v(4, 32), v(5, 32), v(6, 32), v(7, 32), v(8, 32)];
    const b = encodePcrsFile(sel, values);
    expect(b.length).toBe(668);
    expect(b.readUInt32LE(0)).toBe(2);
    expect(b.subarray(4, 12).toString('hex')).toBe('0400' + '03' + '31000000' + '00');
    expect(b.subarray(12, 20).toString('hex')).toBe('0b00' + '03' + '31120000' + '00');
    expect(b.subarray(20, 132).every((x) => x === 0)).toBe(true);
    expect(b.readUInt32LE(132)).toBe(1);
    expect(b.readUInt32LE(136)).toBe(8);
    expect(b.readUInt16LE(140)).toBe(20);
    expect(b.subarray(142, 162).equals(v(1, 20))).toBe(true);
    expect(b.subarray(162, 206).every((x) => x === 0)).toBe(true);
    expect(b.readUInt16LE(140 + 3 * 66)).toBe(32);
  });

  it('spreads more than 8 digests over lists of 8', () => {
    const sel = [{ alg: 'sha256' as const, pcrs: [0, 1, 2, 3, 4, 5, 6, 7, 8] }];
    const values = Array.from({ length: 9 }, (_, i) => v(i + 1, 32));
    const b = encodePcrsFile(sel, values);
    expect(b.length).toBe(pcrsFileSize(9));
    expect(b.length).toBe(136 + 2 * 532);
    expect(b.readUInt32LE(132)).toBe(2);
    expect(b.readUInt32LE(136 + 532)).toBe(1);
    const r = decodePcrsFile(b);
    expect(r.ok && r.value.values.map((x) => x[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('round-trips selection and values', () => {
    const sel = [{ alg: 'sha256' as const, pcrs: [0, 7, 13] }];
    const r = decodePcrsFile(encodePcrsFile(sel, [v(1, 32), v(2, 32), v(3, 32)]));
    if (!r.ok) throw r.error;
    expect(r.value.selection).toEqual(sel);
    expect(r.value.values.map((x) => Buffer.from(x))).toEqual([v(1, 32), v(2, 32), v(3, 32)]);
  });

  it('refuses values that do not match the selection', () => {
    expect(() => encodePcrsFile([{ alg: 'sha256', pcrs: [0, 1] }], [v(1, 32)])).toThrow(/1 values for 2/);
    expect(() => encodePcrsFile([{ alg: 'sha256', pcrs: [0] }], [v(1, 20)])).toThrow(/sha256 needs 32/);
  });

  it('rejects a file whose size does not match its list count, and digests of the wrong bank size', () => {
    const b = encodePcrsFile([{ alg: 'sha256', pcrs: [0] }], [v(1, 32)]);
    let r = decodePcrsFile(b.subarray(0, 600));
    expect(!r.ok && [r.error.reason, r.error.field, r.error.offset]).toEqual(['malformed', 'pcrValues', 132]);
    const c = Buffer.from(b);
    c.writeUInt16LE(20, 140);
    r = decodePcrsFile(c);
    expect(!r.ok && [r.error.reason, r.error.field, r.error.offset]).toEqual(['malformed', 'pcrValues.digest[0].size', 140]);
  });
});
