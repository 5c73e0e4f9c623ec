import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { policyPcr } from '../../../src/protocol/tpm2/policy.js';

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

describe('policyPcr', () => {
  it('matches the digest swtpm 0.7.1 + tpm2_createpolicy --policy-pcr gave for sha256:0,16', () => {
    // Measured: PCR 0 untouched, PCR 16 extended once with sha256("hello").
    const pcr0 = Buffer.alloc(32);
    const pcr16 = sha256(Buffer.alloc(32), sha256(Buffer.from('hello')));
    expect(pcr16.toString('hex')).toBe('9851312028952521510e8eaab5be94e7dc24b5fc292b2e9781173cf11ffa9878');
    expect(policyPcr([{ alg: 'sha256', pcrs: [0, 16] }], [pcr0, pcr16]).toString('hex')).toBe('203fd8176988e9a39e7c80e44305afaec42f023a350350160949cd70280759a9');
  });

  it('chains onto a previous policy digest and depends on every value and the selection', () => {
    const v = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
    const a = policyPcr([{ alg: 'sha256', pcrs: [4, 7] }], v);
    expect(policyPcr([{ alg: 'sha256', pcrs: [4, 7] }], [v[0]!, Buffer.alloc(32, 3)])).not.toEqual(a);
    expect(policyPcr([{ alg: 'sha256', pcrs: [4, 8] }], v)).not.toEqual(a);
    expect(policyPcr([{ alg: 'sha256', pcrs: [4, 7] }], v, 'sha256', a)).not.toEqual(a);
    expect(policyPcr([{ alg: 'sha256', pcrs: [4, 7] }], v, 'sha384')).toHaveLength(48);
  });

  it('refuses values that do not fit the selection', () => {
    expect(() => policyPcr([{ alg: 'sha256', pcrs: [0, 1] }], [Buffer.alloc(32)])).toThrow(/needs 2 PCR values/);
    expect(() => policyPcr([{ alg: 'sha1', pcrs: [0] }], [Buffer.alloc(32)])).toThrow(/a sha1 PCR has 20/);
  });
});
