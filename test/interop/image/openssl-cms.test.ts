import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../../../src/image/build.js';
import { countersignImage, signImage } from '../../../src/image/sign.js';
import { createTestPki, issueCertificate, type KeyPair } from '../../../src/trust/test-pki.js';
import { verifyImageFile } from '../../../src/trust/image-verifier.js';
import { TrustStore } from '../../../src/trust/trust-store.js';
import { DEMO_NOS_DIR } from '../../image/demo-sandbox.js';

/**
 * Cross-checks image signatures with OpenSSL, the tool SONiC signs and verifies with
 * (onie.md §5.2): what openssl signs we accept, what we sign openssl accepts.
 */
const work = mkdtempSync(join(tmpdir(), 'bootlab-openssl-cms-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], input?: string) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000, ...(input !== undefined ? { input } : {}) });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(`${cmd} is not installed; install it with: apt-get install -y openssl`);
  }
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

function file(name: string, text: string): string {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
}

/**
 * Splits a signed image the way SONiC's verifier does, with shell tools only: the header
 * is everything through the exit_marker line, the payload is payload_image_size bytes
 * after it, and the signature is what follows.
 */
const SPLIT = `
image=$1; data=$2; sig=$3
tar_size=$(head -n 50 "$image" | sed -n 's/^payload_image_size=//p' | head -n 1)
sharch_size=$(sed '/^exit_marker$/q' "$image" | wc -c)
head -c $((sharch_size + tar_size)) "$image" > "$data"
tail -c +$((sharch_size + tar_size + 1)) "$image" > "$sig"
`;

function opensslVerify(image: string, caFile: string): { status: number | null; out: string } {
  const data = `${image}.data`;
  const sig = `${image}.sig`;
  const split = run('/bin/sh', ['-c', SPLIT, 'split', image, data, sig]);
  expect(split.status, split.out).toBe(0);
  return run('openssl', ['cms', '-verify', '-binary', '-inform', 'pem', '-in', sig, '-content', data, '-CAfile', caFile, '-purpose', 'any', '-no_check_time', '-out', '/dev/null']);
}

const pki = createTestPki();
const store = TrustStore.fromPem(pki.dbCa.certPem);
let unsigned: string;
let dbCaFile: string;

beforeAll(async () => {
  expect(run('openssl', ['version']).status).toBe(0);
  unsigned = join(work, 'demo.bin');
  await buildImage(DEMO_NOS_DIR, unsigned);
  dbCaFile = file('db-ca.pem', pki.dbCa.certPem);
});

async function opensslSigned(name: string, signer: KeyPair): Promise<string> {
  const cert = file(`${name}.cert.pem`, signer.certPem);
  const key = file(`${name}.key.pem`, signer.keyPem);
  const sig = join(work, `${name}.sig`);
  const r = run('openssl', ['cms', '-sign', '-nosmimecap', '-signer', cert, '-inkey', key, '-binary', '-in', unsigned, '-outform', 'pem', '-out', sig]);
  expect(r.status, r.out).toBe(0);
  const out = join(work, `${name}.bin`);
  writeFileSync(out, Buffer.concat([readFileSync(unsigned), readFileSync(sig)]));
  return out;
}

describe('images signed by openssl cms -sign', () => {
  it('verify with verifyImageFile for an EC signer under the db CA', async () => {
    const v = await verifyImageFile(await opensslSigned('ossl-ec', pki.vendorSigner), store);
    expect(v.ok ? v.signer.subject : v).toBe('CN=bootlab NOS vendor image signer (TEST ONLY)');
  });

  it('verify with verifyImageFile for an RSA signer', async () => {
    const ca = issueCertificate({ subject: 'rsa db CA (TEST ONLY)', ca: true, keyType: 'rsa' });
    const signer = issueCertificate({ subject: 'rsa signer (TEST ONLY)', issuer: ca, keyType: 'rsa' });
    const v = await verifyImageFile(await opensslSigned('ossl-rsa', signer), TrustStore.fromPem(ca.certPem));
    expect(v.ok ? v.authority.subject : v).toBe('CN=rsa db CA (TEST ONLY)');
  });

  it('are refused when tampered or signed by a signer outside db', async () => {
    const good = await opensslSigned('ossl-tamper', pki.vendorSigner);
    const bytes = readFileSync(good);
    bytes[40] = bytes[40]! ^ 0x01;
    writeFileSync(good, bytes);
    const v = await verifyImageFile(good, store);
    expect(v.ok ? 'ok' : v.reason).toBe('digest-mismatch');
    const rogue = await verifyImageFile(await opensslSigned('ossl-rogue', pki.rogueSigner), store);
    expect(rogue.ok ? 'ok' : rogue.reason).toBe('untrusted-signer');
  });

  it('each kind of damage has its own reason: header, payload or signature bit, truncation, revoked, expired, wrong chain', async () => {
    const good = await opensslSigned('ossl-damage', pki.vendorSigner);
    const bytes = readFileSync(good);
    const marker = bytes.indexOf('\nexit_marker\n') + 13;
    const payloadSize = Number(/payload_image_size=(\d+)/.exec(bytes.subarray(0, marker).toString('latin1'))![1]);
    const variant = async (name: string, change: (b: Buffer) => Buffer, trust = store) => {
      const path = join(work, `damage-${name}.bin`);
      writeFileSync(path, change(Buffer.from(bytes)));
      const v = await verifyImageFile(path, trust);
      return v.ok ? 'trusted' : v.reason;
    };
    const flip = (at: number) => (b: Buffer) => {
      b[at] = b[at]! ^ 0x01;
      return b;
    };
    expect(await variant('untouched', (b) => b)).toBe('trusted');
    expect(await variant('header', flip(30))).toBe('digest-mismatch');
    expect(await variant('payload', flip(marker + 600))).toBe('payload-checksum');
    // A bit inside the base64 of the signature value, near the end of the PEM block.
    expect(await variant('signature', (b) => {
      const end = b.lastIndexOf('-----END');
      b[end - 20] = b[end - 20] === 0x41 ? 0x42 : 0x41;
      return b;
    })).toBe('bad-signature');
    expect(await variant('truncated', (b) => b.subarray(0, marker + payloadSize - 1))).toBe('truncated');
    const revoked = TrustStore.fromPem(pki.dbCa.certPem, { pems: [pki.vendorSigner.certPem] });
    expect(await variant('revoked', (b) => b, revoked)).toBe('revoked-signer');
    const later = TrustStore.fromPem(pki.dbCa.certPem, {}, { checkTimeAt: new Date('2199-01-01') });
    expect(await variant('expired', (b) => b, later)).toBe('expired-signer');
    expect(await variant('wrong-chain', (b) => b, TrustStore.fromPem(issueCertificate({ subject: 'other CA (TEST ONLY)', ca: true }).certPem))).toBe('untrusted-signer');
  });
});

describe('images signed by signImage', () => {
  it('verify with openssl cms -verify over the SONiC byte ranges', async () => {
    const out = join(work, 'ours-ec.bin');
    await signImage(unsigned, pki.vendorSigner, out);
    const r = opensslVerify(out, dbCaFile);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/Verification successful/);
  });

  it('verify with openssl for an RSA signer and a carried intermediate', async () => {
    const root = issueCertificate({ subject: 'rsa root (TEST ONLY)', ca: true, keyType: 'rsa' });
    const mid = issueCertificate({ subject: 'rsa intermediate (TEST ONLY)', issuer: root, ca: true, keyType: 'rsa' });
    const leaf = issueCertificate({ subject: 'rsa leaf (TEST ONLY)', issuer: mid, keyType: 'rsa' });
    const out = join(work, 'ours-rsa.bin');
    await signImage(unsigned, { ...leaf, chainPem: [mid.certPem] }, out);
    const r = opensslVerify(out, file('rsa-root.pem', root.certPem));
    expect(r.status, r.out).toBe(0);
  });

  it('pass openssl without -purpose any too (the S/MIME signing purpose)', async () => {
    const out = join(work, 'ours-purpose.bin');
    await signImage(unsigned, pki.vendorSigner, out);
    opensslVerify(out, dbCaFile);
    const r = run('openssl', ['cms', '-verify', '-binary', '-inform', 'pem', '-in', `${out}.sig`, '-content', `${out}.data`, '-CAfile', dbCaFile, '-no_check_time', '-out', '/dev/null']);
    expect(r.status, r.out).toBe(0);
  });

  it('are refused by openssl when tampered or signed by the rogue signer', async () => {
    const out = join(work, 'ours-tamper.bin');
    await signImage(unsigned, pki.vendorSigner, out);
    const bytes = readFileSync(out);
    bytes[40] = bytes[40]! ^ 0x01;
    writeFileSync(out, bytes);
    expect(opensslVerify(out, dbCaFile).status).not.toBe(0);
    const rogue = join(work, 'ours-rogue.bin');
    await signImage(unsigned, pki.rogueSigner, rogue);
    expect(opensslVerify(rogue, dbCaFile).status).not.toBe(0);
  });

  it('carry a CMS structure openssl prints with sha256 and exactly the three signed attributes', async () => {
    const out = join(work, 'ours-print.bin');
    await signImage(unsigned, pki.vendorSigner, out);
    opensslVerify(out, dbCaFile);
    const r = run('openssl', ['cms', '-cmsout', '-print', '-inform', 'pem', '-in', `${out}.sig`]);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/digestAlgorithm:\s+algorithm: sha256/);
    const attrs = [...r.out.matchAll(/object: (\w+) \(/g)].map((m) => m[1]);
    expect(attrs).toEqual(['contentType', 'signingTime', 'messageDigest']);
    expect(r.out).toMatch(/eContent: <ABSENT>/);
  });
});

describe('test PKI certificates', () => {
  it('verify with openssl verify, and the rogue signer does not', () => {
    const vendor = file('vendor.pem', pki.vendorSigner.certPem);
    const rogue = file('rogue.pem', pki.rogueSigner.certPem);
    expect(run('openssl', ['verify', '-CAfile', dbCaFile, vendor]).out).toMatch(/OK/);
    expect(run('openssl', ['verify', '-CAfile', dbCaFile, rogue]).status).not.toBe(0);
    const rsaCa = issueCertificate({ subject: 'rsa CA (TEST ONLY)', ca: true, keyType: 'rsa', serial: 0x80 });
    const text = run('openssl', ['x509', '-noout', '-text', '-in', file('rsa-ca.pem', rsaCa.certPem)]).out;
    expect(text).toMatch(/Serial Number: 128 \(0x80\)/);
    expect(text).toMatch(/CA:TRUE/);
    expect(text).toMatch(/Certificate Sign/);
    expect(text).toMatch(/X509v3 Subject Key Identifier/);
    expect(text).toMatch(/X509v3 Authority Key Identifier/);
    expect(text).toMatch(/sha256WithRSAEncryption/);
  });
});

describe('dual signatures (vendor + operator countersignature)', () => {
  it('openssl cms -verify accepts what bootlab image countersign writes, checking both signers', async () => {
    const operatorCa = issueCertificate({ subject: 'operator CA (TEST ONLY)', ca: true });
    const operator = issueCertificate({ subject: 'operator signer (TEST ONLY)', issuer: operatorCa });
    const signed = join(work, 'dual-vendor.bin');
    await signImage(unsigned, pki.vendorSigner, signed);
    const dual = join(work, 'dual.bin');
    await countersignImage(signed, operator, dual);
    const bothCas = file('both-cas.pem', pki.dbCa.certPem + operatorCa.certPem);
    const ok = opensslVerify(dual, bothCas);
    expect(ok.status, ok.out).toBe(0);
    // openssl checks every signer: with only the db CA it cannot chain the operator and refuses.
    expect(opensslVerify(dual, dbCaFile).status).not.toBe(0);
  });
});
