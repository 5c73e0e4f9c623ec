import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage } from '../../src/image/build.js';
import { signImage } from '../../src/image/sign.js';
import { createTestPki } from '../../src/trust/test-pki.js';
import { digestImageFile } from '../../src/trust/image-verifier.js';
import type { DigestedImage } from '../../src/trust/image-digester.js';
import { TrustStore } from '../../src/trust/trust-store.js';
import { VerdictMemo } from '../../src/trust/verdict-memo.js';
import { DEMO_NOS_DIR } from '../image/demo-sandbox.js';

const work = mkdtempSync(join(tmpdir(), 'bootlab-memo-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const pki = createTestPki();
const trusting = TrustStore.fromPem(pki.dbCa.certPem);
const other = createTestPki();
const stranger = TrustStore.fromPem(other.dbCa.certPem);
let good: DigestedImage;
let tampered: DigestedImage;

beforeAll(async () => {
  const unsigned = join(work, 'demo.bin');
  await buildImage(DEMO_NOS_DIR, unsigned);
  const signed = join(work, 'demo.signed.bin');
  await signImage(unsigned, pki.vendorSigner, signed);
  good = await digestImageFile(signed);
  const bytes = Buffer.from(readFileSync(signed));
  // A bit of the payload flipped: same size, different bytes, so a different key.
  const at = Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x01;
  const bad = join(work, 'tampered.bin');
  writeFileSync(bad, bytes);
  tampered = await digestImageFile(bad);
});

describe('VerdictMemo', () => {
  it('checks an image once per store and answers the same verdict after that', () => {
    const memo = new VerdictMemo();
    const first = memo.verify(good, trusting);
    expect(first.ok).toBe(true);
    expect(memo.verify(good, trusting)).toBe(first);
    expect(memo.stats).toEqual({ hits: 1, misses: 1 });
  });

  it('does not share a verdict between stores or between different bytes', () => {
    const memo = new VerdictMemo();
    expect(memo.verify(good, trusting).ok).toBe(true);
    const elsewhere = memo.verify(good, stranger);
    expect(elsewhere.ok ? 'accepted' : elsewhere.reason).toBe('untrusted-signer');
    const changed = memo.verify(tampered, trusting);
    expect(changed.ok).toBe(false);
    expect(memo.stats).toEqual({ hits: 0, misses: 3 });
  });
});
