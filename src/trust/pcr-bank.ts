import { EV_NO_ACTION } from '../protocol/tcg/event-types.js';
import type { TcgEvent } from '../protocol/tcg/event-log.js';
import { DIGEST_SIZE, HASH_ALGS, hashOf, type HashAlg } from '../protocol/tcg/hash-alg.js';
import { pcrAttributes } from './pcr-attributes.js';

/**
 * PCR values per bank. A bank that is not allocated holds no PCRs (an empty array), so
 * `banks.sha384[0]` is undefined unless sha384 was allocated.
 */
export type PcrBanks = Record<HashAlg, Uint8Array[]>;

/** PCRs of a PC Client TPM. */
export const PCR_COUNT = 24;
const STARTUP_LOCALITY = Buffer.from('StartupLocality\0', 'latin1');

/**
 * PCRs as TPM2_Startup(CLEAR) leaves them: zero, except the DRTM PCRs 17–22, which hold
 * FF…FF until a dynamic launch resets them (so a quote shows whether one happened). The
 * firmware log never measures into 17–22, so replaying it from these values agrees with
 * tpm2_eventlog, which prints only the PCRs a log touches.
 */
export function createPcrBanks(banks: readonly HashAlg[]): PcrBanks {
  const out = {} as PcrBanks;
  for (const alg of HASH_ALGS) {
    out[alg] = banks.includes(alg) ? Array.from({ length: PCR_COUNT }, (_, i) => initialPcrValue(alg, i)) : [];
  }
  return out;
}

export function initialPcrValue(alg: HashAlg, index: number): Uint8Array {
  return new Uint8Array(DIGEST_SIZE[alg]).fill(pcrAttributes(index).initial === 'ones' ? 0xff : 0);
}

export function activeBanks(banks: PcrBanks): HashAlg[] {
  return HASH_ALGS.filter((a) => banks[a].length > 0);
}

/** PCR[i] = H_alg(PCR[i] ‖ digest). */
export function extendPcr(banks: PcrBanks, alg: HashAlg, index: number, digest: Uint8Array): void {
  const bank = banks[alg];
  const old = bank[index];
  if (!old) throw new RangeError(`PCR ${alg}:${index} does not exist`);
  if (digest.length !== DIGEST_SIZE[alg]) throw new RangeError(`a ${alg} extend needs ${DIGEST_SIZE[alg]} bytes, got ${digest.length}`);
  bank[index] = hashOf(alg, old, digest);
}

/**
 * What one logged event does to the PCRs. EV_NO_ACTION is never extended; a StartupLocality
 * event before PCR0's first extend sets PCR0's start value to 00…0‖locality, as the PC Client
 * profile says a verifier must.
 */
export function applyEvent(banks: PcrBanks, e: TcgEvent): void {
  if (e.eventType === EV_NO_ACTION) {
    const d = Buffer.from(e.data);
    if (e.pcrIndex === 0 && d.length === STARTUP_LOCALITY.length + 1 && d.subarray(0, STARTUP_LOCALITY.length).equals(STARTUP_LOCALITY)) {
      for (const alg of activeBanks(banks)) {
        const pcr0 = banks[alg][0]!;
        if (pcr0.every((b) => b === 0)) pcr0[pcr0.length - 1] = d[STARTUP_LOCALITY.length]!;
      }
    }
    return;
  }
  for (const alg of activeBanks(banks)) {
    const d = e.digests.find((x) => x.alg === alg);
    if (!d) throw new RangeError(`event for PCR ${e.pcrIndex} has no ${alg} digest`);
    extendPcr(banks, alg, e.pcrIndex, d.digest);
  }
}

/** Values in quote order: banks in selection order, PCRs ascending within each. */
export function selectedValues(banks: PcrBanks, selection: ReadonlyArray<{ alg: HashAlg; pcrs: readonly number[] }>): Uint8Array[] {
  return selection.flatMap(({ alg, pcrs }) =>
    pcrs.map((i) => {
      const v = banks[alg][i];
      if (!v) throw new RangeError(`PCR ${alg}:${i} is not in an allocated bank`);
      return v;
    }),
  );
}
