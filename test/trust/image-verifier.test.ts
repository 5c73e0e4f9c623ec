import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ContentInfo, SignedData } from '@peculiar/asn1-cms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, type BuiltImage } from '../../src/image/build.js';
import { buildDetachedCms, countersignImage, signImage } from '../../src/image/sign.js';
import { pemDecodeAll, pemEncode } from '../../src/trust/pem.js';
import { createTestPki, issueCertificate } from '../../src/trust/test-pki.js';
import { formatVerdict, verifyImageFile, type ImageVerdict } from '../../src/trust/image-verifier.js';
import { TrustStore } from '../../src/trust/trust-store.js';
import { DEMO_NOS_DIR } from '../image/demo-sandbox.js';

const work = mkdtempSync(join(tmpdir(), 'bootlab-verify-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const pki = createTestPki();
const store = TrustStore.fromPem(pki.dbCa.certPem);
let unsigned: string;
let built: BuiltImage;
let signed: string;

beforeAll(async () => {
  unsigned = join(work, 'demo.bin');
  built = await buildImage(DEMO_NOS_DIR, unsigned);
  signed = join(work, 'demo.signed.bin');
  await signImage(unsigned, pki.vendorSigner, signed);
});

function variant(name: string, edit: (b: Buffer) => Buffer): string {
  const path = join(work, name);
  writeFileSync(path, edit(Buffer.from(readFileSync(signed))));
  return path;
}

function flip(at: (b: Buffer) => number) {
  return (b: Buffer) => {
    const i = at(b);
    b[i] = b[i]! ^ 0x01;
    return b;
  };
}

function rejected(v: ImageVerdict): { reason: string; detail: string } {
  if (v.ok) throw new Error('expected a rejection');
  return v;
}

describe('signImage + verifyImageFile', () => {
  it('accepts an image from the vendor signer under the db CA, naming signer and authority', async () => {
    const v = await verifyImageFile(signed, store);
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.signer.subject).toBe('CN=bootlab NOS vendor image signer (TEST ONLY)');
    expect(v.authority.subject).toBe('CN=bootlab db CA (TEST ONLY)');
    expect(v.authority.entry.equals(new X509Certificate(pki.dbCa.certPem).raw)).toBe(true);
    expect(v.signer.sha256Fingerprint).toBe(new X509Certificate(pki.vendorSigner.certPem).fingerprint256.replace(/:/g, '').toLowerCase());
    expect(v.digestAlg).toBe('sha256');
    expect(v.digest.size).toBe(readFileSync(signed).length);
    expect(v.digest.layout?.payloadSize).toBe(built.payloadSize);
  });

  it('appends a PEM CMS after exactly the header and payload, leaving them byte-identical', async () => {
    const a = readFileSync(unsigned);
    const b = readFileSync(signed);
    expect(b.subarray(0, a.length).equals(a)).toBe(true);
    const tail = b.subarray(a.length).toString('latin1');
    expect(tail).toMatch(/^-----BEGIN CMS-----\n[A-Za-z0-9+/=\n]+-----END CMS-----\n$/);
    const block = pemDecodeAll(tail)[0]!;
    const sd = AsnConvert.parse(AsnConvert.parse(block.der, ContentInfo).content, SignedData);
    expect(sd.encapContentInfo.eContent).toBeUndefined();
    expect(sd.signerInfos[0]!.signedAttrs!.map((a) => a.attrType)).toEqual([
      '1.2.840.113549.1.9.3',
      '1.2.840.113549.1.9.5',
      '1.2.840.113549.1.9.4',
    ]);
  });

  it('replaces, never signs, a signature already appended', async () => {
    const resigned = join(work, 'resigned.bin');
    const r = await signImage(signed, pki.vendorSigner, resigned);
    expect(r.signedBytes).toBe(built.size);
    expect(r.signer).toBe('CN=bootlab NOS vendor image signer (TEST ONLY)');
    const bytes = readFileSync(resigned);
    expect(bytes.toString('latin1').match(/BEGIN CMS/g)).toHaveLength(1);
    expect((await verifyImageFile(resigned, store)).ok).toBe(true);
  });

  it('signs in place when the output is the input', async () => {
    const path = join(work, 'inplace.bin');
    writeFileSync(path, readFileSync(signed));
    await signImage(path, pki.vendorSigner, path);
    expect((await verifyImageFile(path, store)).ok).toBe(true);
  });

  it('accepts a db certificate that signs directly, CA or self-signed leaf', async () => {
    const byCa = join(work, 'by-ca.bin');
    await signImage(unsigned, pki.dbCa, byCa);
    const v = await verifyImageFile(byCa, store);
    expect(v.ok && v.authority.subject).toBe('CN=bootlab db CA (TEST ONLY)');

    const leaf = issueCertificate({ subject: 'bootlab self-signed db signer (TEST ONLY)' });
    const byLeaf = join(work, 'by-leaf.bin');
    await signImage(unsigned, leaf, byLeaf);
    const v2 = await verifyImageFile(byLeaf, TrustStore.fromPem([pki.dbCa.certPem, leaf.certPem]));
    expect(v2.ok && v2.authority.subject).toBe('CN=bootlab self-signed db signer (TEST ONLY)');
    expect(rejected(await verifyImageFile(byLeaf, store)).reason).toBe('untrusted-signer');
  });

  it('accepts RSA signers and chains through an intermediate the signature carries', async () => {
    const root = issueCertificate({ subject: 'rsa root (TEST ONLY)', ca: true, keyType: 'rsa' });
    const mid = issueCertificate({ subject: 'rsa intermediate (TEST ONLY)', issuer: root, ca: true, keyType: 'rsa' });
    const leaf = issueCertificate({ subject: 'rsa signer (TEST ONLY)', issuer: mid, keyType: 'rsa' });
    const out = join(work, 'rsa.bin');
    await signImage(unsigned, { ...leaf, chainPem: [mid.certPem] }, out);
    const v = await verifyImageFile(out, TrustStore.fromPem(root.certPem));
    expect(v.ok && v.authority.subject).toBe('CN=rsa root (TEST ONLY)');
    expect(v.ok && v.chain).toEqual(['CN=rsa signer (TEST ONLY)', 'CN=rsa intermediate (TEST ONLY)', 'CN=rsa root (TEST ONLY)']);
    expect(formatVerdict(v)).toMatch(/; chain "CN=rsa signer \(TEST ONLY\)" → "CN=rsa intermediate \(TEST ONLY\)" → "CN=rsa root \(TEST ONLY\)"$/);
    // Without the intermediate in the signature, nothing links the signer to the root.
    const bare = join(work, 'rsa-bare.bin');
    await signImage(unsigned, leaf, bare);
    expect(rejected(await verifyImageFile(bare, TrustStore.fromPem(root.certPem))).reason).toBe('untrusted-signer');
    expect((await verifyImageFile(bare, TrustStore.fromPem(mid.certPem))).ok).toBe(true);
  });

  it('rejects an image dbx lists by digest, however it is signed, before looking at the signature', async () => {
    const v = await verifyImageFile(signed, store);
    if (!v.ok) throw new Error(v.detail);
    const revoked = TrustStore.fromPem(pki.dbCa.certPem, { sha256: [v.digest.signedSha256!] });
    expect(rejected(await verifyImageFile(signed, revoked))).toMatchObject({ reason: 'revoked-digest', detail: expect.stringMatching(/signed header and payload/) });
    // Signed again (by the db CA itself): the content is the same, so it stays revoked.
    const resigned = join(work, 'resigned.bin');
    await signImage(unsigned, pki.dbCa, resigned);
    expect(rejected(await verifyImageFile(resigned, revoked)).reason).toBe('revoked-digest');
    // The whole-file digest works too.
    expect(rejected(await verifyImageFile(signed, TrustStore.fromPem(pki.dbCa.certPem, { sha256: [v.digest.fileSha256] }))).reason).toBe('revoked-digest');
  });

  it('rejects a signer whose certificate, or whose issuer, dbx revokes, naming the chain', async () => {
    const bySigner = rejected(await verifyImageFile(signed, TrustStore.fromPem(pki.dbCa.certPem, { pems: [pki.vendorSigner.certPem] })));
    expect(bySigner).toMatchObject({ reason: 'revoked-signer', detail: expect.stringMatching(/dbx revokes "CN=bootlab NOS vendor image signer \(TEST ONLY\)", on the chain .* → "CN=bootlab db CA/) });
    expect(rejected(await verifyImageFile(signed, TrustStore.fromPem(pki.dbCa.certPem, { pems: [pki.dbCa.certPem] }))).reason).toBe('revoked-signer');
    // A dbx entry for someone else changes nothing.
    expect((await verifyImageFile(signed, TrustStore.fromPem(pki.dbCa.certPem, { pems: [pki.rogueSigner.certPem] }))).ok).toBe(true);
  });

  it('checks validity dates only when asked: an expired or not-yet-valid chain is expired-signer', async () => {
    expect((await verifyImageFile(signed, store)).ok).toBe(true);
    const later = TrustStore.fromPem(pki.dbCa.certPem, {}, { checkTimeAt: new Date(Date.now() + 1000 * 86_400_000) });
    expect(rejected(await verifyImageFile(signed, later))).toMatchObject({ reason: 'expired-signer', detail: expect.stringMatching(/"CN=bootlab NOS vendor image signer \(TEST ONLY\)" is valid .* not at/) });
    const earlier = TrustStore.fromPem(pki.dbCa.certPem, {}, { checkTimeAt: new Date('2001-01-01T00:00:00Z') });
    expect(rejected(await verifyImageFile(signed, earlier)).reason).toBe('expired-signer');
    const now = TrustStore.fromPem(pki.dbCa.certPem, {}, { checkTimeAt: new Date() });
    expect((await verifyImageFile(signed, now)).ok).toBe(true);
  });

  it('trust modes: an approved digest alone lets an image in (allow-list), or must come with a trusted signature (both)', async () => {
    const v = await verifyImageFile(signed, store);
    if (!v.ok) throw new Error(v.detail);
    const digest = v.digest.signedSha256!;
    const allow = TrustStore.fromPem(pki.dbCa.certPem, {}, { mode: 'allow-list', approved: [digest] });
    // An unsigned image is fine under the approve-list model, and the digest is the authority.
    expect(await verifyImageFile(unsigned, allow)).toMatchObject({ ok: true, rule: 'allow-list', authority: { kind: 'sha256', entry: digest } });
    expect(rejected(await verifyImageFile(unsigned, TrustStore.fromPem(pki.dbCa.certPem, {}, { mode: 'allow-list', approved: [Buffer.alloc(32)] }))).reason).toBe('not-approved');
    const both = TrustStore.fromPem(pki.dbCa.certPem, {}, { mode: 'both', approved: [digest] });
    expect(await verifyImageFile(signed, both)).toMatchObject({ ok: true, rule: 'signature+allow-list' });
    expect(rejected(await verifyImageFile(unsigned, both)).reason).toBe('no-signature');
    const rogueSigned = join(work, 'approved-rogue.bin');
    await signImage(unsigned, pki.rogueSigner, rogueSigned);
    expect(rejected(await verifyImageFile(rogueSigned, both)).reason).toBe('untrusted-signer');
    expect(() => TrustStore.fromPem(pki.dbCa.certPem, {}, { mode: 'both' })).toThrow(/needs at least one approved digest/);
  });

  it('dual-signer: the vendor signs, the operator countersigns, both must verify and each must be vouched for', async () => {
    const operatorCa = issueCertificate({ subject: 'operator CA (TEST ONLY)', ca: true });
    const operator = issueCertificate({ subject: 'operator signer (TEST ONLY)', issuer: operatorCa });
    const dual = join(work, 'dual.bin');
    await countersignImage(signed, operator, dual);
    const operatorDb = [new X509Certificate(operatorCa.certPem)];
    const dualStore = TrustStore.fromPem(pki.dbCa.certPem, {}, { mode: 'dual-signer', operatorDb });
    expect(await verifyImageFile(dual, dualStore)).toMatchObject({
      ok: true,
      rule: 'dual-signer',
      signer: { subject: 'CN=bootlab NOS vendor image signer (TEST ONLY)' },
      countersigner: { subject: 'CN=operator signer (TEST ONLY)', authority: 'CN=operator CA (TEST ONLY)' },
    });
    // A countersignature does not get in the way of the plain signature rule.
    expect(await verifyImageFile(dual, store)).toMatchObject({ ok: true, rule: 'signature' });
    // Only the vendor's signature, or a countersigner the operator list does not know: refused.
    expect(rejected(await verifyImageFile(signed, dualStore))).toMatchObject({ reason: 'missing-countersignature' });
    const byRogue = join(work, 'dual-rogue.bin');
    await countersignImage(signed, pki.rogueSigner, byRogue);
    expect(rejected(await verifyImageFile(byRogue, dualStore)).reason).toBe('missing-countersignature');
    // A countersignature that does not verify spoils the image in every mode.
    const bytes = readFileSync(dual);
    const pem = bytes.subarray(built.size).toString('latin1');
    const cms = AsnConvert.parse(pemDecodeAll(pem)[0]!.der, ContentInfo);
    const sd = AsnConvert.parse(cms.content, SignedData);
    const sig = new Uint8Array(sd.signerInfos[1]!.signature.buffer);
    sig[10] = sig[10]! ^ 0x01;
    const broken = join(work, 'dual-broken.bin');
    writeFileSync(broken, Buffer.concat([bytes.subarray(0, built.size), Buffer.from(pemEncode('CMS', Buffer.from(AsnConvert.serialize(new ContentInfo({ contentType: cms.contentType, content: AsnConvert.serialize(sd) })))), 'latin1')]));
    expect(rejected(await verifyImageFile(broken, store))).toMatchObject({ reason: 'bad-signature', detail: expect.stringMatching(/^signer 2: /) });
    // Countersigning an image whose content no longer matches its signature is refused.
    const edited = join(work, 'edited-then-countersigned.bin');
    const e = Buffer.from(bytes);
    e[built.size - 10] = e[built.size - 10]! ^ 0x01;
    writeFileSync(edited, e);
    await expect(countersignImage(edited, operator, join(work, 'never.bin'))).rejects.toThrow(/does not cover this image/);
  });

  it('rejects the rogue signer as untrusted', async () => {
    const out = join(work, 'rogue.bin');
    await signImage(unsigned, pki.rogueSigner, out);
    const r = rejected(await verifyImageFile(out, store));
    expect(r.reason).toBe('untrusted-signer');
    expect(r.detail).toContain('rogue');
  });

  it('rejects a flipped header bit as a digest mismatch (the header is not in payload_sha1)', async () => {
    const path = variant('flip-header.bin', flip(() => 30));
    const r = rejected(await verifyImageFile(path, store));
    expect(r.reason).toBe('digest-mismatch');
  });

  it('rejects a flipped payload bit as a payload checksum failure before looking at the signature', async () => {
    const path = variant('flip-payload.bin', flip(() => built.size - built.payloadSize + 600));
    expect(rejected(await verifyImageFile(path, store)).reason).toBe('payload-checksum');
  });

  it('rejects a flipped bit in the signature value as a bad signature', async () => {
    const der = pemDecodeAll(readFileSync(signed).subarray(built.size).toString('latin1'))[0]!.der;
    // The signature value is the last field of the DER: flip a bit in its final byte.
    der[der.length - 1] = der[der.length - 1]! ^ 0x01;
    const path = variant('flip-sig.bin', (b) => Buffer.concat([b.subarray(0, built.size), Buffer.from(pemEncode('CMS', der))]));
    expect(rejected(await verifyImageFile(path, store)).reason).toBe('bad-signature');
  });

  it('rejects a flipped bit in the PEM text of the signature as malformed or bad, never ok', async () => {
    const path = variant('flip-pem.bin', flip(() => built.size + 40));
    const r = rejected(await verifyImageFile(path, store));
    expect(['malformed-signature', 'bad-signature', 'digest-mismatch', 'untrusted-signer']).toContain(r.reason);
  });

  it('rejects a signature that is not CMS as malformed', async () => {
    const path = variant('garbage-sig.bin', (b) => Buffer.concat([b.subarray(0, built.size), Buffer.from('-----BEGIN CMS-----\nAAAA\n-----END CMS-----\n')]));
    expect(rejected(await verifyImageFile(path, store)).reason).toBe('malformed-signature');
  });

  it('rejects a truncated file', async () => {
    const path = variant('truncated.bin', (b) => b.subarray(0, built.size - 100));
    expect(rejected(await verifyImageFile(path, store)).reason).toBe('truncated');
  });

  it('rejects an unsigned image as having no signature', async () => {
    expect(rejected(await verifyImageFile(unsigned, store)).reason).toBe('no-signature');
  });

  it('rejects a file that is not a sharch image', async () => {
    const path = join(work, 'elf.bin');
    writeFileSync(path, Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(5000)]));
    const r = rejected(await verifyImageFile(path, store));
    expect(r.reason).toBe('not-sharch');
    expect(r.detail).toContain('exit_marker');
  });

  it('rejects a CMS whose digest is not sha256 as unsupported', async () => {
    const der = buildDetachedCms(Buffer.alloc(32), pki.vendorSigner, new Date());
    const info = AsnConvert.parse(der, ContentInfo);
    const sd = AsnConvert.parse(info.content, SignedData);
    sd.signerInfos[0]!.digestAlgorithm.algorithm = '2.16.840.1.101.3.4.2.3';
    info.content = AsnConvert.serialize(sd);
    const path = variant('sha512.bin', (b) => Buffer.concat([b.subarray(0, built.size), Buffer.from(pemEncode('CMS', Buffer.from(AsnConvert.serialize(info))))]));
    expect(rejected(await verifyImageFile(path, store)).reason).toBe('unsupported-digest');
  });

  it('accepts a DER signature as well as PEM', async () => {
    const der = pemDecodeAll(readFileSync(signed).subarray(built.size).toString('latin1'))[0]!.der;
    const path = variant('der-sig.bin', (b) => Buffer.concat([b.subarray(0, built.size), der]));
    expect((await verifyImageFile(path, store)).ok).toBe(true);
  });

  it('refuses to sign with a key that does not belong to the certificate', async () => {
    await expect(signImage(unsigned, { keyPem: pki.rogueSigner.keyPem, certPem: pki.vendorSigner.certPem }, join(work, 'x.bin'))).rejects.toMatchObject({
      code: 'BL_SIGN_KEY_MISMATCH',
    });
  });

  it('refuses to sign a file that is not a sharch image', async () => {
    const path = join(work, 'plain.txt');
    writeFileSync(path, 'hello\n');
    await expect(signImage(path, pki.vendorSigner, join(work, 'y.bin'))).rejects.toMatchObject({ code: 'BL_IMAGE_LAYOUT' });
  });
});
