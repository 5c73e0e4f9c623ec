import { describe, expect, it } from 'vitest';
import { separator, taggedEvent } from '../../src/protocol/tcg/event-data.js';
import { EV_EVENT_TAG, EV_SEPARATOR } from '../../src/protocol/tcg/event-types.js';
import { policyPcr } from '../../src/protocol/tpm2/policy.js';
import { VirtualTpm } from '../../src/trust/vtpm.js';

const SELECTION = [{ alg: 'sha256' as const, pcrs: [7, 13] }];

function boot(tpm: VirtualTpm, image: string): void {
  tpm.extend(7, EV_SEPARATOR, separator());
  tpm.extend(13, EV_EVENT_TAG, taggedEvent(0x4f4e4945, Buffer.from(image)));
}

/** The verifier's side: the authPolicy of a golden boot, computed on a TPM nobody else touches. */
function goldenPolicy(): Buffer {
  const reference = new VirtualTpm({ banks: ['sha256'] });
  boot(reference, 'golden image');
  return policyPcr(SELECTION, SELECTION[0]!.pcrs.map((p) => reference.pcr('sha256', p)));
}

describe('seal / unseal to a PCR policy', () => {
  it('releases the secret after a golden boot, and withholds it after any other', () => {
    const secret = Buffer.from('nos-config: admin password hash, site keys');
    const good = new VirtualTpm({ banks: ['sha1', 'sha256'] });
    const blob = good.seal(secret, goldenPolicy());
    expect(() => good.unseal(blob, { selection: SELECTION })).toThrow(/TPM_RC_POLICY_FAIL/);
    boot(good, 'golden image');
    expect(good.unseal(blob, { selection: SELECTION }).equals(secret)).toBe(true);

    const bad = new VirtualTpm({ banks: ['sha256'] });
    const badBlob = bad.seal(secret, goldenPolicy());
    boot(bad, 'some other image');
    expect(() => bad.unseal(badBlob, { selection: SELECTION })).toThrow(expect.objectContaining({ code: 'BL_TPM_UNSEAL' }));
  });

  it('binds the blob to its TPM and its policy: another TPM, an edited policy or a flipped byte cannot open it', () => {
    const a = new VirtualTpm({ banks: ['sha256'] });
    const b = new VirtualTpm({ banks: ['sha256'] });
    boot(a, 'golden image');
    boot(b, 'golden image');
    const blob = a.seal(Buffer.from('s3cret'), goldenPolicy());
    expect(() => b.unseal(blob, { selection: SELECTION })).toThrow(/TPM_RC_INTEGRITY/);
    // Swap in the policy of the PCRs as they are on a tampered device: the policy check passes, the AEAD does not.
    const c = new VirtualTpm({ banks: ['sha256'] });
    boot(c, 'tampered');
    const forged = Buffer.from(c.seal(Buffer.from('x'), goldenPolicy()));
    const ownPolicy = policyPcr(SELECTION, SELECTION[0]!.pcrs.map((p) => c.pcr('sha256', p)));
    ownPolicy.copy(forged, 2);
    expect(() => c.unseal(forged, { selection: SELECTION })).toThrow(/TPM_RC_INTEGRITY/);
    const flipped = Buffer.from(blob);
    flipped[flipped.length - 1]! ^= 1;
    expect(() => a.unseal(flipped, { selection: SELECTION })).toThrow(/TPM_RC_INTEGRITY/);
    expect(() => a.unseal(blob.subarray(0, 10), { selection: SELECTION })).toThrow(/truncated/);
    expect(() => a.seal(Buffer.alloc(129), goldenPolicy())).toThrow(/at most 128 bytes/);
  });
});
