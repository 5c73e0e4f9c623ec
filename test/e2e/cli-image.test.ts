import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCertificate } from '../../src/trust/test-pki.js';

const run = promisify(execFile);
const repo = new URL('../../', import.meta.url).pathname;
const bootlab = (...args: string[]) => run('node', [join(repo, 'dist/cli/bin.js'), ...args], { cwd: dir });
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bootlab-cli-image-'));
  const ca = issueCertificate({ subject: 'db CA (TEST ONLY)', ca: true });
  const signer = issueCertificate({ subject: 'signer (TEST ONLY)', issuer: ca });
  const other = issueCertificate({ subject: 'other CA (TEST ONLY)', ca: true });
  await writeFile(join(dir, 'db.pem'), ca.certPem);
  await writeFile(join(dir, 'other.pem'), other.certPem);
  await writeFile(join(dir, 'signer.key'), signer.keyPem);
  await writeFile(join(dir, 'signer.pem'), signer.certPem);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('bootlab image', () => {
  it('builds, signs and verifies an installer, and verify refuses a db that does not cover the signer', async () => {
    const built = await bootlab('image', 'build', join(repo, 'images', 'demo-nos'), '-o', 'nos.bin');
    expect(built.stdout).toMatch(/nos\.bin: \d+ bytes, payload \d+ bytes, payload_sha1 [0-9a-f]{40}/);
    const signed = await bootlab('image', 'sign', 'nos.bin', '--key', 'signer.key', '--cert', 'signer.pem', '-o', 'nos.signed.bin');
    expect(signed.stdout).toMatch(/signed \d+ bytes as "CN=signer \(TEST ONLY\)"/);
    const ok = await bootlab('image', 'verify', 'nos.signed.bin', '--db', 'db.pem');
    expect(ok.stdout).toMatch(/trusted \(signature\); signer "CN=signer \(TEST ONLY\)", authority "CN=db CA \(TEST ONLY\)"/);
    const revoked = await bootlab('image', 'verify', 'nos.signed.bin', '--db', 'db.pem', '--dbx', 'signer.pem').catch((e: unknown) => e);
    expect(revoked).toMatchObject({ code: 1, stdout: expect.stringMatching(/REJECTED: revoked-signer: dbx revokes "CN=signer \(TEST ONLY\)"/) });
    const sha = createHash('sha256').update(await readFile(join(dir, 'nos.signed.bin'))).digest('hex');
    const byDigest = await bootlab('image', 'verify', 'nos.signed.bin', '--db', 'db.pem', '--dbx-sha256', sha).catch((e: unknown) => e);
    expect(byDigest).toMatchObject({ code: 1, stdout: expect.stringMatching(/REJECTED: revoked-digest: .*the whole file/) });
    const expired = await bootlab('image', 'verify', 'nos.signed.bin', '--db', 'db.pem', '--check-time', '2099-01-01').catch((e: unknown) => e);
    expect(expired).toMatchObject({ code: 1, stdout: expect.stringMatching(/REJECTED: expired-signer: "CN=signer \(TEST ONLY\)" is valid/) });
    expect((await bootlab('image', 'verify', 'nos.signed.bin', '--db', 'db.pem', '--check-time')).stdout).toMatch(/trusted \(signature\);/);
    const badDate = await bootlab('image', 'verify', 'nos.signed.bin', '--db', 'db.pem', '--check-time', 'soon').catch((e: unknown) => e);
    expect(badDate).toMatchObject({ code: 2, stderr: expect.stringMatching(/--check-time soon: not a date/) });
    // The approve-list model: an unsigned image whose digest is approved.
    const unsignedSha = createHash('sha256').update(await readFile(join(dir, 'nos.bin'))).digest('hex');
    expect((await bootlab('image', 'verify', 'nos.bin', '--db', 'db.pem', '--mode', 'allow-list', '--approve-sha256', unsignedSha)).stdout).toMatch(/trusted \(allow-list\); signer "none \(approved digest\)"/);
    const notApproved = await bootlab('image', 'verify', 'nos.signed.bin', '--db', 'db.pem', '--mode', 'both', '--approve-sha256', '00'.repeat(32)).catch((e: unknown) => e);
    expect(notApproved).toMatchObject({ code: 1, stdout: expect.stringMatching(/REJECTED: not-approved/) });
    const refused = await bootlab('image', 'verify', 'nos.signed.bin', '--db', 'other.pem').catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stdout: string }).stdout).toMatch(/REJECTED: untrusted-signer/);
    const unsigned = await bootlab('image', 'verify', 'nos.bin', '--db', 'db.pem').catch((e: unknown) => e);
    expect((unsigned as { stdout: string }).stdout).toMatch(/REJECTED: no-signature/);
  }, 60_000);

  it('names the missing install.sh and the missing key file instead of printing a stack', async () => {
    const noSource = await bootlab('image', 'build', dir, '-o', 'x.bin').catch((e: unknown) => e);
    expect(noSource).toMatchObject({ code: 2 });
    expect((noSource as { stderr: string }).stderr).toMatch(/install\.sh: missing/);
    const noKey = await bootlab('image', 'sign', 'nos.bin', '--key', 'absent.key', '--cert', 'signer.pem', '-o', 'y.bin').catch((e: unknown) => e);
    expect(noKey).toMatchObject({ code: 2 });
    expect((noKey as { stderr: string }).stderr).toMatch(/--key absent\.key: ENOENT/);
    expect((noKey as { stderr: string }).stderr).not.toMatch(/\n\s+at /);
  });

  it('inspects a signed installer, an updater and a file that is no image, without running anything', async () => {
    await bootlab('image', 'build', join(repo, 'images', 'demo-nos'), '-o', 'i.bin');
    await bootlab('image', 'sign', 'i.bin', '--key', 'signer.key', '--cert', 'signer.pem', '-o', 'i.signed.bin');
    const shown = await bootlab('image', 'inspect', 'i.signed.bin', '--db', 'db.pem');
    expect(shown.stdout).toMatch(/i\.signed\.bin: \d+ bytes, ONIE self-extracting NOS installer \(sharch\)/);
    expect(shown.stdout).toMatch(/payload_sha1 [0-9a-f]{40} \(matches\)/);
    expect(shown.stdout).toMatch(/signature +\d+ bytes after the payload: detached CMS SignedData \(PEM\), 1 signer, sha256, ecdsa-with-SHA256/);
    expect(shown.stdout).toMatch(/certificate +"CN=signer \(TEST ONLY\)", issued by "CN=db CA \(TEST ONLY\)"/);
    expect(shown.stdout).toMatch(/verdict +trusted \(signature\); signer "CN=signer \(TEST ONLY\)"/);
    const json = JSON.parse((await bootlab('image', 'inspect', 'i.bin', '--json')).stdout) as { kind: string; trailer?: unknown; signedSha256: string };
    expect(json).toMatchObject({ kind: 'nos-installer', signedSha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(json.trailer).toBeUndefined();
    await bootlab('image', 'build', join(repo, 'images', 'onie-updater'), '--updater', '-o', 'u.bin');
    expect((await bootlab('image', 'inspect', 'u.bin')).stdout).toMatch(/ONIE updater \(sharch with ONIE-UPDATER-COOKIE\)/);
    expect((await bootlab('image', 'inspect', 'db.pem')).stdout).toMatch(/not an ONIE sharch image\n {2}layout +sharch: /);
  });

  it('keys init makes a UEFI-shaped TEST PKI whose signers verify against its db, except the one its dbx revokes', async () => {
    const out = await bootlab('keys', 'init', 'keys');
    expect(out.stdout).toMatch(/keys: TEST ONLY keys: pk, kek, db-ca, vendor, operator, revoked/);
    await bootlab('image', 'build', join(repo, 'images', 'demo-nos'), '-o', 'k.bin');
    const verdicts: Record<string, string> = {};
    for (const who of ['vendor', 'operator', 'revoked']) {
      await bootlab('image', 'sign', 'k.bin', '--key', `keys/${who}.TEST-ONLY.key.pem`, '--cert', `keys/${who}.TEST-ONLY.cert.pem`, '-o', `k.${who}.bin`);
      const r = await bootlab('image', 'verify', `k.${who}.bin`, '--db', 'keys/db.pem', '--dbx', 'keys/dbx.pem').catch((e: { stdout: string }) => e);
      verdicts[who] = r.stdout.includes('trusted (') ? 'trusted' : (/REJECTED: ([a-z-]+)/.exec(r.stdout)?.[1] ?? r.stdout);
    }
    expect(verdicts).toEqual({ vendor: 'trusted', operator: 'trusted', revoked: 'revoked-signer' });
    // The operator countersigns the vendor's image; dual-signer wants both.
    const counter = await bootlab('image', 'countersign', 'k.vendor.bin', '--key', 'keys/operator.TEST-ONLY.key.pem', '--cert', 'keys/operator.TEST-ONLY.cert.pem', '-o', 'k.dual.bin');
    expect(counter.stdout).toMatch(/countersigned \d+ bytes as "CN=bootlab operator image signer \(TEST ONLY\)"/);
    const dual = ['--db', 'keys/db.pem', '--mode', 'dual-signer', '--operator-db', 'keys/operator.TEST-ONLY.cert.pem'];
    expect((await bootlab('image', 'verify', 'k.dual.bin', ...dual)).stdout).toMatch(/trusted \(dual-signer\); signer "CN=bootlab NOS vendor image signer \(TEST ONLY\)".*; countersigner "CN=bootlab operator image signer \(TEST ONLY\)"/);
    const single = await bootlab('image', 'verify', 'k.vendor.bin', ...dual).catch((e: unknown) => e);
    expect(single).toMatchObject({ code: 1, stdout: expect.stringMatching(/REJECTED: missing-countersignature/) });
    expect((await bootlab('image', 'inspect', 'k.dual.bin')).stdout).toMatch(/detached CMS SignedData \(PEM\), 2 signers/);
    const again = await bootlab('keys', 'init', 'keys').catch((e: { code: number; stderr: string }) => e);
    expect(again).toMatchObject({ code: 2, stderr: expect.stringMatching(/never overwrites keys/) });
  });

  it('extract verifies first: a trusted image unpacks, a tampered or untrusted one unpacks nothing', async () => {
    await bootlab('image', 'build', join(repo, 'images', 'demo-nos'), '-o', 'x.bin');
    await bootlab('image', 'sign', 'x.bin', '--key', 'signer.key', '--cert', 'signer.pem', '-o', 'x.signed.bin');
    const ok = await bootlab('image', 'extract', 'x.signed.bin', '--db', 'db.pem', '-o', 'x.out');
    expect(ok.stdout).toMatch(/x\.signed\.bin: trusted \(signature\); signer "CN=signer \(TEST ONLY\)"/);
    expect(ok.stdout).toMatch(/x\.out: 2 files, 1 directory, \d+ bytes/);
    expect(await readFile(join(dir, 'x.out', 'installer', 'install.sh'), 'utf8')).toMatch(/^#!\/bin\/sh/);

    const untrusted = await bootlab('image', 'extract', 'x.signed.bin', '--db', 'other.pem', '-o', 'y.out').catch((e: unknown) => e);
    expect(untrusted).toMatchObject({ code: 1, stdout: expect.stringMatching(/REJECTED: untrusted-signer: .*; nothing extracted/) });
    const bytes = await readFile(join(dir, 'x.signed.bin'));
    const flip = bytes.indexOf('exit_marker\n') + 12 + 700;
    bytes[flip] = bytes[flip]! ^ 0x01;
    await writeFile(join(dir, 'x.tampered.bin'), bytes);
    const tampered = await bootlab('image', 'extract', 'x.tampered.bin', '--db', 'db.pem', '-o', 'y.out').catch((e: unknown) => e);
    expect(tampered).toMatchObject({ code: 1, stdout: expect.stringMatching(/REJECTED: payload-checksum: .*; nothing extracted/) });
    const noDb = await bootlab('image', 'extract', 'x.signed.bin', '-o', 'y.out').catch((e: unknown) => e);
    expect(noDb).toMatchObject({ code: 2, stderr: expect.stringMatching(/extract verifies first: give --db \(or --no-verify/) });
    await expect(readFile(join(dir, 'y.out', 'installer', 'install.sh'))).rejects.toThrow(/ENOENT/);

    const raw = await bootlab('image', 'extract', 'x.bin', '--no-verify', '-o', 'z.out');
    expect(raw.stdout).toMatch(/x\.bin: NOT VERIFIED \(--no-verify\)\n.*z\.out: 2 files/);
    const again = await bootlab('image', 'extract', 'x.bin', '--no-verify', '-o', 'z.out').catch((e: unknown) => e);
    expect(again).toMatchObject({ code: 2, stderr: expect.stringMatching(/z\.out exists/) });
  });

  it('manifest: a signed Merkle manifest verifies the image chunk by chunk and stops at the first bad one', async () => {
    await writeFile(join(dir, 'big.bin'), Buffer.alloc(64 * 4096 + 5, 0x61));
    const big = await readFile(join(dir, 'big.bin'));
    const made = await bootlab('image', 'manifest', 'big.bin', '--key', 'signer.key', '--cert', 'signer.pem', '--chunk-size', '4096', '-o', 'big.merkle');
    expect(made.stdout).toMatch(/big\.merkle: 65 chunks of 4096 bytes for 262149 bytes, root [0-9a-f]{64}/);
    // Not an installer: the manifest and every chunk pass, then the image itself is judged (and is no sharch).
    const whole = await bootlab('image', 'verify', 'big.bin', '--db', 'db.pem', '--manifest', 'big.merkle').catch((e: { code: number; stdout: string }) => e);
    expect(whole).toMatchObject({ code: 1, stdout: expect.stringMatching(/big\.merkle: trusted; signer "CN=signer \(TEST ONLY\)".* 65 chunks of 4096 bytes[^]*big\.bin: REJECTED: not-sharch/) });
    big[2 * 4096 + 1] = 0x62;
    await writeFile(join(dir, 'big.bad.bin'), big);
    const bad = await bootlab('image', 'verify', 'big.bad.bin', '--db', 'db.pem', '--manifest', 'big.merkle').catch((e: { code: number; stdout: string }) => e);
    expect(bad).toMatchObject({ code: 1, stdout: expect.stringMatching(/REJECTED: bad-chunk: chunk 2 of 65 \(bytes 8192\.\.12287\) does not match the signed manifest/) });
    const untrusted = await bootlab('image', 'verify', 'big.bin', '--db', 'other.pem', '--manifest', 'big.merkle').catch((e: { code: number; stdout: string }) => e);
    expect(untrusted).toMatchObject({ code: 1, stdout: expect.stringMatching(/REJECTED: untrusted-signer: manifest: /) });

    await bootlab('image', 'build', join(repo, 'images', 'demo-nos'), '-o', 'm.bin');
    await bootlab('image', 'sign', 'm.bin', '--key', 'signer.key', '--cert', 'signer.pem', '-o', 'm.signed.bin');
    await bootlab('image', 'manifest', 'm.signed.bin', '--key', 'signer.key', '--cert', 'signer.pem', '--chunk-size', '4096', '-o', 'm.merkle');
    const ok = await bootlab('image', 'verify', 'm.signed.bin', '--db', 'db.pem', '--manifest', 'm.merkle');
    expect(ok.stdout).toMatch(/m\.signed\.bin: trusted \(signature\); signer "CN=signer \(TEST ONLY\)"/);
    const size = await bootlab('image', 'manifest', 'm.bin', '--key', 'signer.key', '--cert', 'signer.pem', '--chunk-size', '3000', '-o', 'x.merkle').catch((e: { code: number; stderr: string }) => e);
    expect(size).toMatchObject({ code: 2, stderr: expect.stringMatching(/chunk size 3000: a power of two from 4096 to 67108864 bytes/) });
  });
});
