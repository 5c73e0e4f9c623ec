/**
 * Which locality may extend and reset each PCR, and its value after TPM2_Startup(CLEAR),
 * after the PC Client Platform TPM Profile's PCR attribute table. Localities: 0 the OS and
 * firmware, 1–3 the trusted OS and launch environment, 4 the dynamic launch itself.
 */
export interface PcrAttributes {
  extend: readonly number[];
  /** Localities TPM2_PCR_Reset accepts from; empty: only a TPM reset (or a dynamic launch) clears it. */
  reset: readonly number[];
  /** Start value: zero, or all ones for the DRTM PCRs until a dynamic launch resets them. */
  initial: 'zeros' | 'ones';
}

const ANY = [0, 1, 2, 3, 4] as const;

export function pcrAttributes(pcr: number): PcrAttributes {
  if (pcr <= 15) return { extend: ANY, reset: [], initial: 'zeros' };
  if (pcr === 16) return { extend: ANY, reset: ANY, initial: 'zeros' }; // debug
  if (pcr === 17 || pcr === 18) return { extend: [2, 3, 4], reset: [4], initial: 'ones' };
  if (pcr === 19) return { extend: [2, 3], reset: [4], initial: 'ones' };
  if (pcr === 20) return { extend: [1, 2, 3], reset: [2, 4], initial: 'ones' };
  if (pcr === 21 || pcr === 22) return { extend: [2], reset: [2, 4], initial: 'ones' };
  if (pcr === 23) return { extend: ANY, reset: ANY, initial: 'zeros' }; // application support
  throw new RangeError(`PCR ${pcr} does not exist (0–23)`);
}

/** The PCRs a dynamic launch (locality 4, _TPM_Hash_Start) resets to zero. */
export const DRTM_PCRS = [17, 18, 19, 20, 21, 22] as const;
