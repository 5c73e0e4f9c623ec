import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { TPM_RH_ENDORSEMENT, akPublic, ekPublic, hierarchyQualifiedName, objectName, qualifiedName } from '../protocol/tpm2/public.js';
import { publicParams } from './vtpm.js';

/**
 * What a verifier learnt about a device's keys at enrolment, outside any evidence the device
 * sends later: the AK's public key (the pin: only its signatures count), and optionally the EK
 * it was created under. From both, the AK's qualified name follows, as the TPM computes it
 * for the quote's qualifiedSigner: QN(AK) = H(QN(EK) ‖ Name(AK)), QN(EK) = H(QN(endorsement) ‖ Name(EK)).
 * The Names come from the templates bootlab and tpm2_createak use (public.ts): an AK with
 * another template (not restricted, another scheme) has another Name, and fails.
 */
export interface EnrolledAk {
  key: KeyObject;
  /** sha256 of the SubjectPublicKeyInfo, for the verdict's detail line. */
  fingerprint: string;
  ek?: KeyObject | undefined;
}

/** Parses the pinned keys; the error says which file did not parse. */
export function enrolledAk(akPem: string, ekPem?: string): EnrolledAk {
  const key = createPublicKey(akPem);
  const ek = ekPem === undefined ? undefined : createPublicKey(ekPem);
  return { key, fingerprint: spkiFingerprint(key), ...(ek ? { ek } : {}) };
}

export function spkiFingerprint(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** QN(AK) under the enrolled EK; the RSA scheme is the one its signatures use (a restricted key has one). */
export function enrolledQualifiedName(ak: KeyObject, ek: KeyObject, rsaScheme: 'rsassa' | 'rsapss'): Buffer {
  const ekQn = qualifiedName(hierarchyQualifiedName(TPM_RH_ENDORSEMENT), objectName(ekPublic(publicParams(ek))));
  return qualifiedName(ekQn, objectName(akPublic(publicParams(ak), rsaScheme)));
}
