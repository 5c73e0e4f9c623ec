import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderSharchHeader } from '../../src/protocol/sharch/layout.js';
import { SignedImageDigester, type DigesterLimits } from '../../src/trust/image-digester.js';
import { digestImageFile } from '../../src/trust/image-verifier.js';
import { hashFileRange } from '../../src/trust/range-hash-worker.js';

const work = mkdtempSync(join(tmpdir(), 'bootlab-digest-file-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What the one-pass streaming digester says of the same bytes, cut in odd pieces. */
function streamed(bytes: Buffer, limits: DigesterLimits) {
  const d = new SignedImageDigester(limits);
  for (let at = 0; at < bytes.length; at += 777_777) d.write(bytes.subarray(at, at + 777_777));
  return d.finish();
}

const payload = randomBytes(3 * (1 << 20) + 17);
const header = renderSharchHeader({ payloadSha1: createHash('sha1').update(payload).digest('hex'), payloadSize: payload.length });
const cases: Record<string, Buffer> = {
  'signed image': Buffer.concat([header, payload, Buffer.from('-----BEGIN CMS-----\nabc\n-----END CMS-----\n')]),
  'unsigned image': Buffer.concat([header, payload]),
  'payload flipped': Buffer.concat([header, Buffer.from(payload).fill(1, 5, 6), Buffer.from('sig')]),
  truncated: Buffer.concat([header, payload.subarray(0, 1000)]),
  'oversized tail': Buffer.concat([header, payload, Buffer.alloc(300 * 1024, 0x41)]),
  'header only': header,
  'not an image': randomBytes(70_000),
  empty: Buffer.alloc(0),
};

describe('digestImageFile', () => {
  for (const [name, bytes] of Object.entries(cases)) {
    it(`gives the streaming digester's result: ${name}`, async () => {
      const path = join(work, `${name}.bin`);
      writeFileSync(path, bytes);
      for (const limits of [{ sha1: false }, {}, { sha384: true }] as DigesterLimits[]) {
        const got = await digestImageFile(path, limits);
        const want = streamed(bytes, limits);
        expect({ ...got, signatureError: got.signatureError?.message, layoutError: got.layoutError?.message }).toEqual({
          ...want,
          signatureError: want.signatureError?.message,
          layoutError: want.layoutError?.message,
        });
      }
    });
  }

  it('hashes a range in a worker with a prefix digest from the same pass, and reports a missing file', async () => {
    const path = join(work, 'range.bin');
    const bytes = randomBytes(2_500_000);
    writeFileSync(path, bytes);
    const sha = (b: Buffer, alg = 'sha256') => createHash(alg).update(b).digest('hex');
    const r = await hashFileRange({ path, start: 10, end: Number.MAX_SAFE_INTEGER, algs: ['sha256', 'sha1'], checkpoint: 1_500_000 });
    expect(r.bytes).toBe(bytes.length - 10);
    expect(r.digests['sha256']!.toString('hex')).toBe(sha(bytes.subarray(10)));
    expect(r.digests['sha1']!.toString('hex')).toBe(sha(bytes.subarray(10), 'sha1'));
    expect(r.atCheckpoint?.['sha256']!.toString('hex')).toBe(sha(bytes.subarray(10, 1_500_000)));
    await expect(hashFileRange({ path: join(work, 'nowhere'), start: 0, end: 1, algs: ['sha1'] })).rejects.toThrow(/ENOENT/);
  });
});
