import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeSignature } from '../../src/protocol/tpm2/signature.js';
import { signTpm2, verifyTpm2Signature } from '../../src/trust/tpm-signature.js';

describe('TPM-style signatures', () => {
  it('pads ECDSA r and s to the curve size, P-256 and P-384 alike', () => {
    for (const [namedCurve, size] of [['P-256', 32], ['P-384', 48]] as const) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
      const s = decodeSignature(signTpm2(privateKey, Buffer.from('msg'), namedCurve === 'P-256' ? 'sha256' : 'sha384'));
      if (!s.ok || s.value.sigAlg !== 'ecdsa') throw new Error('expected ECDSA');
      expect([s.value.r.length, s.value.s.length]).toEqual([size, size]);
      expect(verifyTpm2Signature(publicKey, Buffer.from('msg'), s.value)).toEqual({ ok: true });
    }
  });

  it('accepts an r without its leading zero byte and refuses one longer than the curve', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const msg = Buffer.from('msg');
    // One signature in 256 has a zero lead byte in r; 5000 tries miss with odds of about 3e-9.
    let found: { r: Uint8Array; s: Uint8Array } | undefined;
    for (let i = 0; i < 5000 && !found; i++) {
      const d = decodeSignature(signTpm2(privateKey, msg));
      if (d.ok && d.value.sigAlg === 'ecdsa' && d.value.r[0] === 0) found = d.value;
    }
    if (!found) throw new Error('no signature with a zero lead byte in 5000 tries');
    const sig = { sigAlg: 'ecdsa' as const, hash: 'sha256' as const, r: found.r, s: found.s };
    expect(verifyTpm2Signature(publicKey, msg, { ...sig, r: found.r.subarray(1) })).toEqual({ ok: true });
    expect(verifyTpm2Signature(publicKey, msg, { ...sig, r: Buffer.concat([Buffer.of(0), found.r]) })).toMatchObject({ ok: false });
  });

  it('detects a message that was changed', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const s = decodeSignature(signTpm2(privateKey, Buffer.from('quote')));
    if (!s.ok) throw s.error;
    expect(verifyTpm2Signature(publicKey, Buffer.from('quote'), s.value)).toEqual({ ok: true });
    expect(verifyTpm2Signature(publicKey, Buffer.from('quotf'), s.value)).toEqual({ ok: false, detail: 'RSASSA signature does not verify' });
  });
});
