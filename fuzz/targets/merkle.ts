import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { decodeMerkleManifest, encodeMerkleDescriptor, leafCountFor, MERKLE_DESCRIPTOR_BYTES, merkleRoot } from '../../src/protocol/merkle/manifest.js';
import { Violation, ascii, expectResult, outcome, type FuzzTarget } from '../target.js';

/** Honest manifests of a few leaves, so mutation starts past the root check. */
const manifestArbitrary = fc.tuple(fc.integer({ min: 0, max: 6 * 4096 }), fc.uint8Array({ maxLength: 32 })).map(([imageSize, signature]) => {
  const chunkSize = 4096;
  const leaves = Array.from({ length: leafCountFor(imageSize, chunkSize) }, (_, i) => createHash('sha256').update(`leaf ${i}`).digest());
  const descriptor = encodeMerkleDescriptor({ chunkSize, imageSize, leafCount: leaves.length, root: merkleRoot(leaves) });
  return Uint8Array.from(Buffer.concat([descriptor, ...leaves, signature]));
});

export const merkle: FuzzTarget = {
  name: 'merkle',
  about: 'decodeMerkleManifest (descriptor, leaves, root check, signature tail); the descriptor re-encodes to the bytes it came from',
  maxLen: 2048,
  arbitrary: manifestArbitrary,
  dictionary: [...ascii('BLMERKLE'), Uint8Array.of(1, 0, 0x0b, 12, 0)],
  check(input) {
    const r = expectResult(() => decodeMerkleManifest(input, { maxLeaves: 64 }), input.length);
    if (!r.ok) return outcome(r);
    const m = r.value;
    const again = encodeMerkleDescriptor(m);
    if (!again.equals(m.descriptorBytes) || m.descriptorBytes.length !== MERKLE_DESCRIPTOR_BYTES) throw new Violation('descriptor does not re-encode to its own bytes');
    if (!merkleRoot(m.leaves).equals(m.root)) throw new Violation('accepted leaves that do not hash to the root');
    return outcome(r, `${m.leafCount}:${m.signature.length > 0}`);
  },
};
