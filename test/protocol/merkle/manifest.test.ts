import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LeafHasher } from '../../../src/protocol/merkle/leaf-hasher.js';
import { decodeMerkleManifest, encodeMerkleDescriptor, MERKLE_DESCRIPTOR_BYTES, merkleRoot } from '../../../src/protocol/merkle/manifest.js';

const sha = (...parts: Uint8Array[]) => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();
/** RFC 6962 §2.1 as written: recursive, split at the largest power of two below n. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Uint8Array.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
const leafOf = (chunk: Uint8Array) => sha(Uint8Array.of(0), chunk);

describe('Merkle manifest codec', () => {
  it('computes the RFC 6962 tree hash for every count from 0 to 40', () => {
    for (let n = 0; n <= 40; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leafOf(Buffer.from([i])));
      expect(merkleRoot(leaves).toString('hex'), `n=${n}`).toBe(mth(leaves).toString('hex'));
    }
  });

  it('hashes chunks the same however the stream is cut, the last chunk short', () => {
    const data = randomBytes(4096 * 3 + 100);
    const want = [0, 1, 2, 3].map((i) => leafOf(data.subarray(i * 4096, (i + 1) * 4096)));
    for (const cut of [1, 99, 4096, 5000, data.length]) {
      const got: Array<[number, string, number]> = [];
      const h = new LeafHasher(4096, (i, leaf, len) => got.push([i, leaf.toString('hex'), len]));
      for (let at = 0; at < data.length; at += cut) h.write(data.subarray(at, at + cut));
      h.end();
      expect(got).toEqual(want.map((l, i) => [i, l.toString('hex'), i < 3 ? 4096 : 100]));
    }
  });

  it('round-trips descriptor and leaves, and keeps what follows as the signature', () => {
    const leaves = [leafOf(Buffer.from('a')), leafOf(Buffer.from('b')), leafOf(Buffer.from('c'))];
    const descriptor = encodeMerkleDescriptor({ chunkSize: 4096, imageSize: 8193, leafCount: 3, root: merkleRoot(leaves) });
    expect(descriptor.length).toBe(MERKLE_DESCRIPTOR_BYTES);
    expect(descriptor.subarray(0, 13).toString('hex')).toBe(Buffer.concat([Buffer.from('BLMERKLE'), Buffer.from([1, 0, 0x0b, 12, 0])]).toString('hex'));
    const r = decodeMerkleManifest(Buffer.concat([descriptor, ...leaves, Buffer.from('SIG')]));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ chunkSize: 4096, imageSize: 8193, leafCount: 3, signature: Buffer.from('SIG') });
    expect(r.value.descriptorBytes.equals(descriptor)).toBe(true);
  });

  it('names the field and offset of every malformed part', () => {
    const leaves = [leafOf(Buffer.from('a')), leafOf(Buffer.from('b'))];
    const good = Buffer.concat([encodeMerkleDescriptor({ chunkSize: 4096, imageSize: 5000, leafCount: 2, root: merkleRoot(leaves) }), ...leaves]);
    const broken = (at: number, value: number) => {
      const b = Buffer.from(good);
      b[at] = value;
      const r = decodeMerkleManifest(b);
      return r.ok ? 'ok' : `${r.error.field}@${r.error.offset}: ${r.error.message}`;
    };
    expect(broken(0, 0x58)).toMatch(/^magic@0/);
    expect(broken(8, 2)).toMatch(/^version@8: .*unsupported/);
    expect(broken(10, 0x0c)).toMatch(/^hash algorithm@9: .*only sha256/);
    expect(broken(11, 30)).toMatch(/^chunk size@11/);
    expect(broken(12, 1)).toMatch(/^flags@12/);
    expect(broken(24, 3)).toMatch(/^leaf count@21: .*3 leaves, but 5000 bytes in 4096-byte chunks need 2/);
    expect(broken(MERKLE_DESCRIPTOR_BYTES + 40, 0)).toMatch(/^leaves@57: merkle: malformed leaves at offset 57: they hash to [0-9a-f]{64}, the descriptor's root is/);
    const short = decodeMerkleManifest(good.subarray(0, good.length - 1));
    expect(!short.ok && short.error.reason).toBe('truncated');
    expect(() => encodeMerkleDescriptor({ chunkSize: 3000, imageSize: 1, leafCount: 1, root: Buffer.alloc(32) })).toThrow(/chunk size: 3000 is not a power of two/);
  });
});
