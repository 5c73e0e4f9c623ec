import { defaultIdentity } from '../device/identity-defaults.js';
import type { DeviceIdentity } from '../device/identity.js';
import { PCR, QUOTED_PCRS, secureBootVariablesOf } from '../device/onie/measured-boot.js';
import type { ImageVerdict } from '../trust/image-verifier.js';
import type { DigestedImage } from '../trust/image-digester.js';
import { policyPcr } from '../protocol/tpm2/policy.js';
import { SeededRandom } from '../random.js';
import type { AttestationPolicy } from '../trust/attestation-policy.js';
import type { SignedReferenceList } from '../trust/reference-list.js';
import type { TrustStore } from '../trust/trust-store.js';
import { goldenPcrValues } from './attest.js';

/** The platform fields that change what firmware and ONIE measure; the rest are defaults. */
export type PlatformChoice = Partial<Pick<DeviceIdentity, 'machine' | 'arch' | 'machineRev' | 'onieVersion'>>;

/**
 * The verifier's policy for a clean install, computed before any switch boots from what
 * the verifier knows alone: the trusted image (as its verdict and digests), the db, the
 * platform, and optionally a signed reference list. Also the TPM2_PolicyPCR digest a
 * provisioning secret is sealed to.
 */
export function goldenPolicy(o: {
  image: { name: string; verdict: Extract<ImageVerdict, { ok: true }>; digest: DigestedImage };
  trust: TrustStore;
  platform?: PlatformChoice;
  referenceList?: SignedReferenceList | undefined;
}): { policy: AttestationPolicy; sealTo: Array<{ alg: 'sha256'; pcrs: number[] }>; policyDigest: Buffer } {
  const identity = defaultIdentity(new SeededRandom(1), o.platform ?? {});
  const golden = goldenPcrValues({
    identity,
    secureBoot: secureBootVariablesOf(o.trust),
    image: {
      name: o.image.name,
      size: o.image.digest.size,
      sha256: o.image.digest.fileSha256,
      authorityDer: o.image.verdict.authority.entry,
      ...(o.image.verdict.countersigner ? { operatorAuthorityDer: o.image.verdict.countersigner.authorityEntry } : {}),
    },
    referenceList: o.referenceList,
  });
  const sealTo = [{ alg: 'sha256' as const, pcrs: golden.map((g) => g.pcr) }];
  return {
    policy: { selection: [{ alg: 'sha256', pcrs: QUOTED_PCRS }], golden, ...(o.referenceList ? { referencePcr: PCR.referenceList } : {}) },
    sealTo,
    policyDigest: policyPcr(sealTo, golden.map((g) => g.value)),
  };
}
