import { createHash, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  TPM_RH_ENDORSEMENT,
  akPublic,
  decodeTpm2bPublic,
  ekPublic,
  encodeTpm2bPublic,
  encodeTpmtPublic,
  hierarchyQualifiedName,
  objectName,
  qualifiedName,
} from '../../../src/protocol/tpm2/public.js';

const rsaModulus = (): Buffer => Buffer.from(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }).n!, 'base64url');
const ecPoint = (): { x: Buffer; y: Buffer } => {
  const j = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  return { x: Buffer.from(j.x!, 'base64url'), y: Buffer.from(j.y!, 'base64url') };
};

describe('AK TPMT_PUBLIC (tpm2_createak template)', () => {
  it('lays out the RSA-2048 template field by field', () => {
    const n = rsaModulus();
    const b = encodeTpmtPublic(akPublic({ type: 'rsa', modulus: n, exponent: 65537 }));
    expect(b.subarray(0, 24).toString('hex')).toBe('0001' + '000b' + '00050072' + '0000' + '0010' + '0014000b' + '0800' + '00000000' + '0100');
    expect(b.subarray(24).equals(n)).toBe(true);
    expect(b.length).toBe(280);
  });

  it('lays out the ECC P-256 template field by field', () => {
    const { x, y } = ecPoint();
    const b = encodeTpmtPublic(akPublic({ type: 'ecc', x, y }));
    expect(b.subarray(0, 22).toString('hex')).toBe('0023' + '000b' + '00050072' + '0000' + '0010' + '0018000b' + '0003' + '0010' + '0020');
    expect(b.subarray(22, 54).equals(x)).toBe(true);
    expect(b.subarray(54, 56).toString('hex')).toBe('0020');
    expect(b.subarray(56).equals(y)).toBe(true);
    expect(b.length).toBe(88);
  });

  it('names an object nameAlg ‖ sha256(TPMT_PUBLIC)', () => {
    const pub = akPublic({ type: 'ecc', ...ecPoint() });
    const expected = Buffer.concat([Buffer.from('000b', 'hex'), createHash('sha256').update(encodeTpmtPublic(pub)).digest()]);
    expect(objectName(pub).equals(expected)).toBe(true);
  });

  it('prefixes TPM2B_PUBLIC with the size and decodes it back', () => {
    for (const pub of [akPublic({ type: 'rsa', modulus: rsaModulus() }), akPublic({ type: 'ecc', ...ecPoint() }), ekPublic({ type: 'ecc', ...ecPoint() })]) {
      const b = encodeTpm2bPublic(pub);
      expect(b.readUInt16BE(0)).toBe(b.length - 2);
      const r = decodeTpm2bPublic(b);
      if (!r.ok) throw r.error;
      expect(encodeTpmtPublic(r.value).equals(b.subarray(2))).toBe(true);
    }
  });

  it('reports a wrong size prefix and an unsupported key type at their offsets', () => {
    const b = encodeTpm2bPublic(akPublic({ type: 'ecc', ...ecPoint() }));
    let r = decodeTpm2bPublic(b.subarray(0, b.length - 1));
    expect(!r.ok && [r.error.reason, r.error.field, r.error.offset]).toEqual(['malformed', 'size', 0]);
    const c = Buffer.from(b);
    c.writeUInt16BE(0x0008, 2); // TPM_ALG_KEYEDHASH
    r = decodeTpm2bPublic(c);
    expect(!r.ok && [r.error.reason, r.error.field, r.error.offset]).toEqual(['unsupported', 'type', 2]);
  });
});

describe('EK template and qualified names', () => {
  it('carries the PolicySecret(TPM_RH_ENDORSEMENT) policy digest', () => {
    const step = createHash('sha256').update(Buffer.concat([Buffer.alloc(32), Buffer.from('00000151', 'hex'), hierarchyQualifiedName(TPM_RH_ENDORSEMENT)])).digest();
    const policy = createHash('sha256').update(step).digest();
    const ek = ekPublic({ type: 'ecc', ...ecPoint() });
    expect(Buffer.from(ek.authPolicy).equals(policy)).toBe(true);
    expect(encodeTpmtPublic(ek).subarray(0, 8).toString('hex')).toBe('0023000b' + '000300b2');
  });

  it('derives QN(child) = nameAlg ‖ H(QN(parent) ‖ Name(child))', () => {
    const ekName = objectName(ekPublic({ type: 'ecc', ...ecPoint() }));
    const qn = qualifiedName(hierarchyQualifiedName(TPM_RH_ENDORSEMENT), ekName);
    const expected = createHash('sha256').update(Buffer.concat([Buffer.from('4000000b', 'hex'), ekName])).digest();
    expect(qn.subarray(0, 2).toString('hex')).toBe('000b');
    expect(qn.subarray(2).equals(expected)).toBe(true);
  });
});
