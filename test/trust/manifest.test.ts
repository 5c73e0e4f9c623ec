import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildManifest } from '../../src/image/manifest.js';
import { StreamRefusedError, ChunkVerifier } from '../../src/trust/chunk-verifier.js';
import { verifyManifest } from '../../src/trust/manifest-verifier.js';
import { createTestPki } from '../../src/trust/test-pki.js';
import { TrustStore } from '../../src/trust/trust-store.js';

const work = mkdtempSync(join(tmpdir(), 'bootlab-manifest-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const pki = createTestPki();
const store = TrustStore.fromPem(pki.dbCa.certPem);
const image = randomBytes(10 * 4096 + 123);
writeFileSync(join(work, 'image.bin'), image);

/** Feeds `data` in `cut`-byte pieces; returns how far it got before the verifier stopped it. */
function feed(v: ChunkVerifier, data: Buffer, cut: number): { fed: number; error?: StreamRefusedError } {
  let at = 0;
  try {
    for (; at < data.length; at += cut) v.write(data.subarray(at, Math.min(at + cut, data.length)));
    v.finish();
    return { fed: data.length };
  } catch (e) {
    if (!(e instanceof StreamRefusedError)) throw e;
    return { fed: at, error: e };
  }
}

describe('chunked Merkle manifests', () => {
  it('builds a signed manifest that db trusts and that accepts the image in any chunking', async () => {
    const out = join(work, 'image.merkle');
    const built = await buildManifest(join(work, 'image.bin'), pki.vendorSigner, out, { chunkSize: 4096 });
    expect(built).toMatchObject({ imageSize: image.length, chunkSize: 4096, leafCount: 11 });
    const v = verifyManifest(readFileSync(out), store);
    expect(v).toMatchObject({ ok: true, signer: expect.stringMatching(/vendor/), authority: expect.stringMatching(/db/) });
    if (!v.ok) return;
    expect(v.manifest.root.equals(built.root)).toBe(true);
    for (const cut of [1000, 4096, 65536]) expect(feed(new ChunkVerifier(v.manifest), image, cut)).toEqual({ fed: image.length });
  });

  it('stops at the first bad chunk, before the rest arrives', async () => {
    const out = join(work, 'stop.merkle');
    await buildManifest(join(work, 'image.bin'), pki.vendorSigner, out, { chunkSize: 4096 });
    const v = verifyManifest(readFileSync(out), store);
    if (!v.ok) throw new Error(v.detail);
    const bad = Buffer.from(image);
    bad[3 * 4096 + 17] = bad[3 * 4096 + 17]! ^ 0x01;
    const r = feed(new ChunkVerifier(v.manifest), bad, 1000);
    expect(r.error).toMatchObject({ reason: 'bad-chunk', chunk: 3, received: 4 * 4096 });
    expect(r.error!.message).toMatch(/chunk 3 of 11 \(bytes 12288\.\.16383\) does not match the signed manifest .*stopped after 16384 of 41083 bytes/);
    expect(r.fed).toBeLessThan(5 * 4096);
    // The last, short chunk too; and bytes beyond the manifest's size; and a short stream.
    const lastBad = Buffer.from(image);
    lastBad[image.length - 1] = lastBad[image.length - 1]! ^ 0x80;
    expect(feed(new ChunkVerifier(v.manifest), lastBad, 4096).error).toMatchObject({ reason: 'bad-chunk', chunk: 10 });
    expect(feed(new ChunkVerifier(v.manifest), Buffer.concat([image, Buffer.from('x')]), 4096).error?.message).toMatch(/more than the manifest's 41083 bytes arrived/);
    expect(feed(new ChunkVerifier(v.manifest), image.subarray(0, 5 * 4096), 4096).error).toMatchObject({ reason: 'truncated', chunk: 5, received: 5 * 4096 });
  });

  it('refuses a manifest from an unknown signer, with a changed descriptor, changed leaves or no signature', async () => {
    const out = join(work, 'refuse.merkle');
    await buildManifest(join(work, 'image.bin'), pki.rogueSigner, out, { chunkSize: 4096 });
    expect(verifyManifest(readFileSync(out), store)).toMatchObject({ ok: false, reason: 'untrusted-signer', detail: expect.stringMatching(/^manifest: /) });

    const good = join(work, 'good.merkle');
    const built = await buildManifest(join(work, 'image.bin'), pki.vendorSigner, good, { chunkSize: 4096 });
    const bytes = readFileSync(good);
    // Another image size in the descriptor, leaves and root left alone: the signature no longer covers it.
    const resized = Buffer.from(bytes);
    resized[20] = resized[20]! ^ 0x01;
    expect(verifyManifest(resized, store)).toMatchObject({ ok: false, reason: 'digest-mismatch', detail: expect.stringMatching(/of the manifest descriptor/) });
    const grown = Buffer.from(bytes);
    grown[19] = grown[19]! ^ 0x10;
    expect(verifyManifest(grown, store)).toMatchObject({ ok: false, reason: 'bad-manifest', detail: expect.stringMatching(/leaf count at offset 21: 11 leaves, but 45179 bytes in 4096-byte chunks need 12/) });
    const rerooted = Buffer.from(bytes);
    rerooted[30] = rerooted[30]! ^ 0x01;
    expect(verifyManifest(rerooted, store)).toMatchObject({ ok: false, reason: 'bad-manifest', detail: expect.stringMatching(/the descriptor's root is/) });
    // Leaves and root replaced consistently (a mirror that rebuilt the tree for its own bytes): the signature catches it.
    const forged = join(work, 'forged.merkle');
    const other = Buffer.from(image);
    other[0] = other[0]! ^ 0x01;
    writeFileSync(join(work, 'other.bin'), other);
    await buildManifest(join(work, 'other.bin'), pki.vendorSigner, forged, { chunkSize: 4096 });
    const forgedBytes = readFileSync(forged);
    const spliced = Buffer.concat([forgedBytes.subarray(0, 57 + 11 * 32), bytes.subarray(57 + 11 * 32)]);
    expect(verifyManifest(spliced, store)).toMatchObject({ ok: false, reason: 'digest-mismatch' });
    expect(verifyManifest(bytes.subarray(0, 57 + built.leafCount * 32), store)).toMatchObject({ ok: false, reason: 'no-signature' });
  });
});
