import { DIGEST_SIZE, hashOf, type HashAlg } from '../tcg/hash-alg.js';
import { encodePcrSelection, normalizeSelection } from './pcr-selection.js';

/** TPM_CC_PolicyPCR (TPM 2.0 Part 2, Table 12). */
export const TPM_CC_POLICY_PCR = 0x0000017f;

/**
 * TPM2_PolicyPCR's update of a policy digest (TPM 2.0 Part 3 §23.7), computed offline the
 * way a trial session would:
 *   policyDigest' = H(policyDigest ‖ TPM_CC_PolicyPCR ‖ TPML_PCR_SELECTION ‖ pcrDigest),
 *   pcrDigest = H(the selected PCR values, banks in selection order, PCRs ascending).
 * `values` are the PCR values in that order; `previous` defaults to the empty policy
 * (all zeros), so one call gives the authPolicy of "these PCRs have these values".
 */
export function policyPcr(
  selection: ReadonlyArray<{ alg: HashAlg; pcrs: readonly number[] }>,
  values: readonly Uint8Array[],
  policyAlg: HashAlg = 'sha256',
  previous?: Uint8Array,
): Buffer {
  const sel = normalizeSelection(selection);
  const count = sel.reduce((n, s) => n + s.pcrs.length, 0);
  if (values.length !== count) throw new RangeError(`PolicyPCR needs ${count} PCR values for its selection, got ${values.length}`);
  sel.flatMap((s) => s.pcrs.map(() => s.alg)).forEach((alg, i) => {
    if (values[i]!.length !== DIGEST_SIZE[alg]) throw new RangeError(`PCR value ${i} is ${values[i]!.length} bytes, a ${alg} PCR has ${DIGEST_SIZE[alg]}`);
  });
  const start = previous ?? new Uint8Array(DIGEST_SIZE[policyAlg]);
  if (start.length !== DIGEST_SIZE[policyAlg]) throw new RangeError(`a ${policyAlg} policy digest has ${DIGEST_SIZE[policyAlg]} bytes`);
  const cc = Buffer.alloc(4);
  cc.writeUInt32BE(TPM_CC_POLICY_PCR);
  return hashOf(policyAlg, start, cc, encodePcrSelection(sel), hashOf(policyAlg, ...values));
}
