import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyDetachedSignature } from '../../../src/trust/detached-signature.js';
import { createTestPki, issueCertificate, type KeyPair } from '../../../src/trust/test-pki.js';
import { TrustStore } from '../../../src/trust/trust-store.js';

/**
 * iPXE-style detached signatures (what `imgverify` checks), made by openssl: a DER CMS
 * next to the file, with no signed attributes (`-noattr`) or with them.
 */
const work = mkdtempSync(join(tmpdir(), 'bootlab-ipxe-sig-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const pki = createTestPki();
const store = TrustStore.fromPem(pki.dbCa.certPem);
const nbp = join(work, 'ipxe.efi');
writeFileSync(nbp, randomBytes(3 * 1024 * 1024 + 5));

function opensslSign(signer: KeyPair, out: string, extra: string[]): void {
  const cert = join(work, `${out}.cert.pem`);
  const key = join(work, `${out}.key.pem`);
  writeFileSync(cert, signer.certPem);
  writeFileSync(key, signer.keyPem);
  const r = spawnSync('openssl', ['cms', '-sign', '-binary', '-outform', 'DER', '-in', nbp, '-signer', cert, '-inkey', key, '-out', join(work, out), ...extra], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('openssl is not installed: apt-get install -y --no-install-recommends openssl');
  expect(r.status, r.stderr).toBe(0);
}

describe("iPXE-style detached signatures (openssl cms -sign -binary -outform DER)", () => {
  it.each([
    ['-noattr (the signature covers the file itself)', ['-noattr'], 'ec'],
    ['with signed attributes', [], 'ec'],
    ['-noattr by an RSA signer', ['-noattr'], 'rsa'],
  ] as const)('verifies a signature %s', async (_label, extra, keyType) => {
    const signer = keyType === 'rsa' ? issueCertificate({ subject: 'ipxe rsa signer (TEST ONLY)', issuer: pki.dbCa, keyType: 'rsa' }) : pki.vendorSigner;
    const sig = `ipxe-${keyType}-${extra.length}.sig`;
    opensslSign(signer, sig, [...extra]);
    const v = await verifyDetachedSignature(nbp, readFileSync(join(work, sig)), store);
    expect(v).toMatchObject({ ok: true, authority: { subject: 'CN=bootlab db CA (TEST ONLY)' } });
  });

  it('rejects a flipped byte in the file, a signer outside db, and a revoked signer, each with its reason', async () => {
    opensslSign(pki.vendorSigner, 'good.sig', ['-noattr']);
    const sig = readFileSync(join(work, 'good.sig'));
    const flipped = join(work, 'flipped.efi');
    const bytes = readFileSync(nbp);
    bytes[12345] = bytes[12345]! ^ 0x01;
    writeFileSync(flipped, bytes);
    expect(await verifyDetachedSignature(flipped, sig, store)).toMatchObject({ ok: false, reason: 'bad-signature' });
    opensslSign(pki.rogueSigner, 'rogue.sig', ['-noattr']);
    expect(await verifyDetachedSignature(nbp, readFileSync(join(work, 'rogue.sig')), store)).toMatchObject({ ok: false, reason: 'untrusted-signer' });
    const revoking = TrustStore.fromPem(pki.dbCa.certPem, { pems: [pki.vendorSigner.certPem] });
    expect(await verifyDetachedSignature(nbp, sig, revoking)).toMatchObject({ ok: false, reason: 'revoked-signer' });
    // The CLI does the same: exit 0 only when trusted.
    const db = join(work, 'db.pem');
    writeFileSync(db, pki.dbCa.certPem);
    const bin = join(new URL('../../../', import.meta.url).pathname, 'dist/cli/bin.js');
    const ok = spawnSync('node', [bin, 'image', 'verify', nbp, '--sig', join(work, 'good.sig'), '--db', db], { encoding: 'utf8', timeout: 30_000 });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/trusted \(signature\); signer "CN=bootlab NOS vendor image signer \(TEST ONLY\)"/);
    const bad = spawnSync('node', [bin, 'image', 'verify', flipped, '--sig', join(work, 'good.sig'), '--db', db], { encoding: 'utf8', timeout: 30_000 });
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/REJECTED: bad-signature/);
    // With attributes, a changed file is caught by the digest before the signature.
    opensslSign(pki.vendorSigner, 'attrs.sig', []);
    expect(await verifyDetachedSignature(flipped, readFileSync(join(work, 'attrs.sig')), store)).toMatchObject({ ok: false, reason: 'digest-mismatch' });
  });
});
