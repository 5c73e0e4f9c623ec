import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceIdentity } from '../device/identity.js';
import {
  GOLDEN_PCRS,
  GOLDEN_PCRS_WITH_LIST,
  PCR,
  QUOTED_PCRS,
  goldenBootMeasurements,
  type SecureBootVariables,
  referenceListMeasurement,
  toTcgEvent,
} from '../device/onie/measured-boot.js';
import type { SignedReferenceList } from '../trust/reference-list.js';
import { replayEvents } from '../trust/event-log-replay.js';
import { formatSelection } from '../protocol/tpm2/pcr-selection.js';
import { policyPcr } from '../protocol/tpm2/policy.js';
import { encodePolicy } from '../trust/attestation-policy.js';
import type { NonceLedger } from '../trust/nonce-ledger.js';
import { verifyQuote, type QuoteCheck } from '../trust/quote-verifier.js';
import type { VirtualTpm } from '../trust/vtpm.js';
import type { PreparedImage } from './images.js';

export interface AttestationResult {
  ok: boolean;
  checks: QuoteCheck[];
  nonce: Buffer;
}

/**
 * The verifier's side: a fresh nonce, the device's quote over it, and a strict check of
 * quote, event log and golden values. Golden values come from what the verifier knows
 * independently (the platform, the db, the reference image), never from the device.
 */
export async function attestDevice(
  tpm: VirtualTpm,
  goldenValues: Array<{ alg: 'sha256'; pcr: number; value: Uint8Array }>,
  artifactsDir: string | undefined,
  nonces: NonceLedger,
  referenceMode = false,
): Promise<AttestationResult> {
  const nonce = nonces.issue();
  const selection = [{ alg: 'sha256' as const, pcrs: QUOTED_PCRS }];
  const quote = tpm.quote(nonce, selection);
  const eventLog = tpm.eventLog();
  const verdict = verifyQuote({
    attest: quote.attest,
    signature: quote.signature,
    akPublicPem: tpm.ak.publicPem,
    nonce,
    eventLog,
    expectedSelection: selection,
    golden: goldenValues,
    // Enrolment is simulated: the verifier learnt the AK's qualified name when the device was registered.
    expectedSigner: tpm.akQualifiedName,
    nonces,
    ...(referenceMode ? { referencePcr: PCR.referenceList } : {}),
  });
  if (artifactsDir) {
    await writeFile(join(artifactsDir, 'ak.pub.pem'), tpm.ak.publicPem);
    // What enrolment records (with the AK) so an offline verifier can check qualifiedSigner: `attest verify --ak --ek`.
    await writeFile(join(artifactsDir, 'ek.pub.pem'), tpm.ek.publicPem);
    await writeFile(join(artifactsDir, 'quote.msg'), quote.attest);
    await writeFile(join(artifactsDir, 'quote.sig'), quote.signature);
    await writeFile(join(artifactsDir, 'quote.pcrs'), quote.pcrsFile);
    await writeFile(join(artifactsDir, 'nonce.hex'), `${nonce.toString('hex')}\n`);
    // What this verifier required, so `bootlab attest verify` can check the same files again.
    await writeFile(join(artifactsDir, 'policy.json'), encodePolicy({ selection, golden: goldenValues, ...(referenceMode ? { referencePcr: PCR.referenceList } : {}) }));
  }
  return { ok: verdict.ok, checks: verdict.checks, nonce };
}

/**
 * Golden sha256 values for a clean install of the reference image: PCRs 0, 4, 5, 7 and 13;
 * with a reference list, 0, 4, 5, 7 and 12 (which then depends on the list alone, so any
 * listed installer gives the same value).
 */
export function goldenPcrValues(g: {
  identity: DeviceIdentity;
  /** The Secure Boot variables the devices measure (PK, KEK, db, dbx). */
  secureBoot: SecureBootVariables;
  /** What the golden boot installs: only its digests and the db entry that approves it matter. */
  image: Pick<PreparedImage, 'name' | 'authorityDer' | 'operatorAuthorityDer' | 'refusal' | 'size' | 'sha1' | 'sha256'>;
  referenceList?: SignedReferenceList | undefined;
}): Array<{ alg: 'sha256'; pcr: number; value: Uint8Array }> {
  if (!g.image.authorityDer) {
    throw new Error(`golden image ${g.image.name} is not trusted by the run's db (${g.image.refusal ?? 'no authority'})`);
  }
  const measurements = goldenBootMeasurements(g.identity, g.secureBoot, {
    authorityDer: g.image.authorityDer,
    operatorAuthorityDer: g.image.operatorAuthorityDer,
    size: g.image.size,
    ...(g.image.sha1 ? { sha1: g.image.sha1 } : {}),
    sha256: g.image.sha256,
  });
  if (g.referenceList) measurements.push(referenceListMeasurement({ id: g.referenceList.list.id, version: g.referenceList.list.version, bytes: g.referenceList.bytes }));
  const banks = replayEvents(measurements.map((m) => toTcgEvent(m, ['sha256'])), ['sha256']);
  return (g.referenceList ? GOLDEN_PCRS_WITH_LIST : GOLDEN_PCRS).map((pcr) => ({ alg: 'sha256' as const, pcr, value: banks.sha256[pcr]! }));
}

/** The golden values as the PCR policy a secret is sealed to: TPM2_PolicyPCR over them. */
function goldenSelection(goldenValues: ReadonlyArray<{ alg: 'sha256'; pcr: number; value: Uint8Array }>): Array<{ alg: 'sha256'; pcrs: number[] }> {
  return [{ alg: 'sha256', pcrs: goldenValues.map((g) => g.pcr) }];
}

/**
 * Provisioning, before the device boots: `secret` sealed to its TPM under a PolicyPCR of
 * the golden values, which the verifier computed without the device.
 */
export function sealToGoldenBoot(
  tpm: VirtualTpm,
  goldenValues: ReadonlyArray<{ alg: 'sha256'; pcr: number; value: Uint8Array }>,
  secret: string,
): Buffer {
  return tpm.seal(Buffer.from(secret), policyPcr(goldenSelection(goldenValues), goldenValues.map((g) => g.value)));
}

/** After the install boot, the NOS asks its TPM for the secret: released only if the PCRs are the golden ones now. */
export function unsealAfterBoot(
  tpm: VirtualTpm,
  blob: Uint8Array,
  goldenValues: ReadonlyArray<{ alg: 'sha256'; pcr: number; value: Uint8Array }>,
  secret: string,
): { released: boolean; detail: string } {
  const selection = goldenSelection(goldenValues);
  try {
    const got = tpm.unseal(blob, { selection });
    return { released: got.toString() === secret, detail: `unsealed ${got.length} bytes under PolicyPCR(${formatSelection(selection)})` };
  } catch (e) {
    return { released: false, detail: (e as Error).message };
  }
}
