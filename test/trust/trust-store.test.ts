import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/trust/test-pki.js';
import { TrustStore } from '../../src/trust/trust-store.js';

const root = issueCertificate({ subject: 'root (TEST ONLY)', ca: true });
const mid = issueCertificate({ subject: 'intermediate (TEST ONLY)', issuer: root, ca: true });
const leaf = issueCertificate({ subject: 'leaf (TEST ONLY)', issuer: mid });
const x = (p: { certPem: string }) => new X509Certificate(p.certPem);

describe('TrustStore', () => {
  it('reads every certificate of every PEM text', () => {
    const store = TrustStore.fromPem([root.certPem + mid.certPem, leaf.certPem]);
    expect(store.db.map((c) => c.subject)).toEqual(['CN=root (TEST ONLY)', 'CN=intermediate (TEST ONLY)', 'CN=leaf (TEST ONLY)']);
  });

  it('rejects text without a certificate', () => {
    expect(() => TrustStore.fromPem('nothing here')).toThrow(/no PEM CERTIFICATE/);
  });

  it('trusts a signer that is itself in db', () => {
    const d = new TrustStore([x(leaf)]).authorise(x(leaf));
    expect(d?.authority.subject).toBe('CN=leaf (TEST ONLY)');
  });

  it('trusts a signer through carried intermediates up to a db certificate', () => {
    const d = new TrustStore([x(root)]).authorise(x(leaf), [x(mid)]);
    expect(d?.path.map((c) => c.subject)).toEqual(['CN=leaf (TEST ONLY)', 'CN=intermediate (TEST ONLY)', 'CN=root (TEST ONLY)']);
  });

  it('trusts an intermediate placed in db without its root', () => {
    expect(new TrustStore([x(mid)]).authorise(x(leaf))?.authority.subject).toBe('CN=intermediate (TEST ONLY)');
  });

  it('does not trust a chain missing its intermediate', () => {
    expect(new TrustStore([x(root)]).authorise(x(leaf))).toBeUndefined();
  });

  it('does not trust a certificate whose issuer name matches but whose signature does not', () => {
    // Same subject name as the real root, different key.
    const impostor = issueCertificate({ subject: 'root (TEST ONLY)', ca: true });
    const forged = issueCertificate({ subject: 'forged (TEST ONLY)', issuer: impostor });
    expect(new TrustStore([x(root)]).authorise(x(forged))).toBeUndefined();
  });
});
