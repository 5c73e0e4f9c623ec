import { describe, expect, it } from 'vitest';
import { decodeAttest, encodeQuoteAttest, type QuoteAttestInput } from '../../../src/protocol/tpm2/attest.js';

// The shape of tpm.md §2.1's annotated swtpm quote: 34-byte name, 16-byte nonce, sha256:0,4,5,16.
const input = (): QuoteAttestInput => ({
  qualifiedSigner: Buffer.concat([Buffer.from('000b', 'hex'), Buffer.alloc(32, 0xd5)]),
  extraData: Buffer.alloc(16, 0xc0),
  clockInfo: { clock: 0xc9c3fn, resetCount: 1, restartCount: 0, safe: 1 },
  firmwareVersion: 0x2019102300163636n,
  pcrSelect: [{ alg: 'sha256', pcrs: [0, 4, 5, 16] }],
  pcrDigest: Buffer.alloc(32, 0xc8),
});

describe('TPMS_ATTEST for TPM2_Quote', () => {
  it('lays out every field at the offsets of a real swtpm quote', () => {
    const b = encodeQuoteAttest(input());
    expect(b.subarray(0, 8).toString('hex')).toBe('ff5443478018' + '0022');
    expect(b.subarray(8, 10).toString('hex')).toBe('000b');
    expect(b.subarray(42, 44).toString('hex')).toBe('0010');
    expect(b.subarray(60, 68).toString('hex')).toBe('00000000000c9c3f');
    expect(b.subarray(68, 77).toString('hex')).toBe('00000001' + '00000000' + '01');
    expect(b.subarray(77, 85).toString('hex')).toBe('2019102300163636');
    expect(b.subarray(85, 95).toString('hex')).toBe('00000001' + '000b' + '03' + '310001');
    expect(b.subarray(95, 97).toString('hex')).toBe('0020');
    expect(b.length).toBe(97 + 32);
  });

  it('decodes what it encodes', () => {
    const r = decodeAttest(encodeQuoteAttest(input()));
    if (!r.ok) throw r.error;
    const i = input();
    expect(r.value).toEqual({
      magic: 0xff544347,
      type: 0x8018,
      qualifiedSigner: new Uint8Array(i.qualifiedSigner),
      extraData: new Uint8Array(i.extraData),
      clockInfo: i.clockInfo,
      firmwareVersion: i.firmwareVersion,
      attested: { kind: 'quote', pcrSelect: i.pcrSelect, pcrDigest: new Uint8Array(i.pcrDigest) },
    });
  });

  it('reports magic and type as found instead of refusing them', () => {
    const b = encodeQuoteAttest(input());
    b.writeUInt32BE(0x12345678, 0);
    const r = decodeAttest(b);
    expect(r.ok && r.value.magic).toBe(0x12345678);
    b.writeUInt16BE(0x8014, 4);
    const r2 = decodeAttest(b);
    expect(r2.ok && r2.value.attested.kind).toBe('other');
  });

  it('names the field and offset of every malformed or missing part', () => {
    const b = encodeQuoteAttest(input());
    const cases: Array<[Buffer, string, string, number]> = [
      [b.subarray(0, 50), 'truncated', 'extraData', 44],
      [Buffer.concat([b, Buffer.of(0)]), 'malformed', 'attested', b.length],
      [Buffer.from(b).fill(0x43, 42, 43), 'malformed', 'extraData.size', 42],
      [Buffer.from(b).fill(2, 76, 77), 'malformed', 'clockInfo.safe', 76],
      [b.subarray(0, 100), 'truncated', 'attested.quote.pcrDigest', 97],
    ];
    for (const [buf, reason, field, offset] of cases) {
      const r = decodeAttest(buf);
      expect(!r.ok && [r.error.reason, r.error.field, r.error.offset]).toEqual([reason, field, offset]);
    }
  });

  it('refuses a nonce longer than TPM2B_DATA holds', () => {
    expect(() => encodeQuoteAttest({ ...input(), extraData: Buffer.alloc(67) })).toThrow(/at most 66/);
  });
});
