import { describe, expect, it } from 'vitest';
import { decodeSignature, encodeSignature, type Tpm2Signature } from '../../../src/protocol/tpm2/signature.js';

describe('TPMT_SIGNATURE', () => {
  it('packs ECDSA as sigAlg, hash, TPM2B r, TPM2B s', () => {
    const b = encodeSignature({ sigAlg: 'ecdsa', hash: 'sha256', r: Buffer.alloc(32, 1), s: Buffer.alloc(32, 2) });
    expect(b.subarray(0, 6).toString('hex')).toBe('0018000b0020');
    expect(b.subarray(38, 40).toString('hex')).toBe('0020');
    expect(b.length).toBe(72);
  });

  it('packs RSASSA and RSAPSS as sigAlg, hash, TPM2B signature', () => {
    expect(encodeSignature({ sigAlg: 'rsassa', hash: 'sha256', sig: Buffer.alloc(256) }).subarray(0, 6).toString('hex')).toBe('0014000b0100');
    expect(encodeSignature({ sigAlg: 'rsapss', hash: 'sha384', sig: Buffer.alloc(256) }).subarray(0, 6).toString('hex')).toBe('0016000c0100');
  });

  it('round-trips all three schemes', () => {
    const sigs: Tpm2Signature[] = [
      { sigAlg: 'ecdsa', hash: 'sha256', r: new Uint8Array(32).fill(9), s: new Uint8Array(31).fill(8) },
      { sigAlg: 'rsassa', hash: 'sha256', sig: new Uint8Array(256).fill(7) },
      { sigAlg: 'rsapss', hash: 'sha1', sig: new Uint8Array(128).fill(6) },
    ];
    for (const s of sigs) {
      const r = decodeSignature(encodeSignature(s));
      expect(r.ok && r.value).toEqual(s);
    }
  });

  it('names unknown schemes, unknown hashes and truncation by offset', () => {
    let r = decodeSignature(Buffer.from('001a000b0000', 'hex'));
    expect(!r.ok && [r.error.reason, r.error.field, r.error.offset]).toEqual(['unsupported', 'sigAlg', 0]);
    r = decodeSignature(Buffer.from('0018000d0000', 'hex'));
    expect(!r.ok && [r.error.reason, r.error.field, r.error.offset]).toEqual(['unsupported', 'hash', 2]);
    r = decodeSignature(Buffer.from('0018000b00200000', 'hex'));
    expect(!r.ok && [r.error.reason, r.error.field, r.error.offset]).toEqual(['truncated', 'signatureR', 6]);
    r = decodeSignature(Buffer.from('0014000b00000000', 'hex'));
    expect(!r.ok && [r.error.reason, r.error.field, r.error.offset]).toEqual(['malformed', 'signature', 6]);
  });
});
