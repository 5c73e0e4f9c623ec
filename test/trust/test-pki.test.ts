import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestPki, issueCertificate } from '../../src/trust/test-pki.js';

describe('test PKI', () => {
  const pki = createTestPki();

  it('marks every subject TEST ONLY and makes the rogue signer independent of the db CA', () => {
    for (const pair of [pki.dbCa, pki.vendorSigner, pki.rogueSigner]) {
      expect(new X509Certificate(pair.certPem).subject).toMatch(/TEST ONLY/);
    }
    const ca = new X509Certificate(pki.dbCa.certPem);
    const vendor = new X509Certificate(pki.vendorSigner.certPem);
    const rogue = new X509Certificate(pki.rogueSigner.certPem);
    expect(ca.ca).toBe(true);
    expect(vendor.ca).toBe(false);
    expect(vendor.checkIssued(ca)).toBe(true);
    expect(vendor.verify(ca.publicKey)).toBe(true);
    expect(rogue.verify(rogue.publicKey)).toBe(true);
    expect(rogue.verify(ca.publicKey)).toBe(false);
    expect(rogue.checkIssued(ca)).toBe(false);
  });

  it('issues RSA certificates with the serial and lifetime asked for', () => {
    const ca = issueCertificate({ subject: 'rsa CA (TEST ONLY)', ca: true, keyType: 'rsa', serial: 0x80, days: 10 });
    const cert = new X509Certificate(ca.certPem);
    expect(cert.serialNumber).toBe('80');
    expect(cert.publicKey.asymmetricKeyType).toBe('rsa');
    const lifetime = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
    expect(Math.round(lifetime / 86_400_000)).toBe(10);
    const leaf = new X509Certificate(issueCertificate({ subject: 'ec under rsa (TEST ONLY)', issuer: ca }).certPem);
    expect(leaf.verify(cert.publicKey)).toBe(true);
    expect(leaf.publicKey.asymmetricKeyType).toBe('ec');
  });

  it('makes fresh keys every time', () => {
    expect(createTestPki().dbCa.keyPem).not.toBe(pki.dbCa.keyPem);
  });

  it('refuses to issue from a certificate that is not a CA', () => {
    expect(() => issueCertificate({ subject: 'x (TEST ONLY)', issuer: pki.vendorSigner })).toThrow(/not a CA/);
  });
});
