import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeEventLog, type EventLog } from '../protocol/tcg/event-log.js';
import { DIGEST_SIZE, HASH_ALGS, hashOf, type HashAlg } from '../protocol/tcg/hash-alg.js';
import { TPM_GENERATED_VALUE, TPM_ST_ATTEST_QUOTE, decodeAttest, type ClockInfo, type Tpm2Attest } from '../protocol/tpm2/attest.js';
import { formatSelection, selectionsEqual } from '../protocol/tpm2/pcr-selection.js';
import { decodeSignature } from '../protocol/tpm2/signature.js';
import { replayEventLog } from './event-log-replay.js';
import { selectedValues, type PcrBanks } from './pcr-bank.js';
import { EV_EVENT_TAG, eventTypeName } from '../protocol/tcg/event-types.js';
import type { NonceRedeemer } from './nonce-ledger.js';
import { bindEventData } from './event-data-binding.js';
import { TAG_UNKNOWN_STAGE } from './reference-list.js';
import { verifyTpm2Signature } from './tpm-signature.js';

export interface QuoteCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface QuoteVerifyInput {
  attest: Uint8Array;
  signature: Uint8Array;
  akPublicPem: string;
  nonce: Uint8Array;
  /** Replayed; must reproduce the quoted pcrDigest. */
  eventLog: Uint8Array;
  /** Must equal the quote's selection if given. */
  expectedSelection?: ReadonlyArray<{ alg: HashAlg; pcrs: readonly number[] }> | undefined;
  /** Reference values the replayed PCRs must equal; each must be covered by the quote. */
  golden?: ReadonlyArray<{ alg: HashAlg; pcr: number; value: Uint8Array }> | undefined;
  /** The clockInfo of the last accepted quote from this TPM. */
  previous?: { clock: bigint; resetCount: number; restartCount: number } | undefined;
  /**
   * The AK's qualified name as enrolled: the quote's qualifiedSigner must be it. `unknown`
   * says why it cannot be established, and the check fails with that reason.
   */
  expectedSigner?: Uint8Array | { unknown: string } | undefined;
  /** The nonces this verifier issued: the quote's must be one, and not seen before (`unknown`: fails, saying why not). */
  nonces?: NonceRedeemer | { unknown: string } | undefined;
  /** The PCR a reference list is measured into: every stage the log shows there as unknown fails. */
  referencePcr?: number | undefined;
}

export interface QuoteVerdict {
  ok: boolean;
  checks: QuoteCheck[];
  attest?: Tpm2Attest;
  replayed?: PcrBanks;
}

/**
 * A strict TPM2_Quote verifier: everything tpm2_checkquote 5.4 skips (magic, type, selection,
 * clock) is checked too, and the event log must reproduce the quoted PCRs. Every check is
 * reported by name; ok only when all pass.
 */
export function verifyQuote(input: QuoteVerifyInput): QuoteVerdict {
  const checks: QuoteCheck[] = [];
  const check = (name: string, ok: boolean, detail: string): boolean => {
    checks.push({ name, ok, detail });
    return ok;
  };
  const done = (extra: Omit<QuoteVerdict, 'ok' | 'checks'> = {}): QuoteVerdict => ({ ok: checks.every((c) => c.ok), checks, ...extra });

  const decoded = decodeAttest(input.attest);
  if (!decoded.ok) {
    check('attest.decode', false, decoded.error.message);
    checkSignature(input, check);
    return done();
  }
  check('attest.decode', true, `TPMS_ATTEST, ${input.attest.length} bytes`);
  const attest = decoded.value;
  check('attest.magic', attest.magic === TPM_GENERATED_VALUE, `0x${hex(attest.magic, 8)}${attest.magic === TPM_GENERATED_VALUE ? '' : ', expected 0xff544347 (TPM_GENERATED_VALUE)'}`);
  check('attest.type', attest.type === TPM_ST_ATTEST_QUOTE, `0x${hex(attest.type, 4)}${attest.type === TPM_ST_ATTEST_QUOTE ? ' (TPM_ST_ATTEST_QUOTE)' : ', expected 0x8018 (TPM_ST_ATTEST_QUOTE)'}`);
  const sigHash = checkSignature(input, check);

  if (input.expectedSigner && 'unknown' in input.expectedSigner) {
    check('attest.qualifiedSigner', false, `${hexOf(attest.qualifiedSigner)}: cannot be established: ${input.expectedSigner.unknown}`);
  } else if (input.expectedSigner) {
    const same = Buffer.from(attest.qualifiedSigner).equals(Buffer.from(input.expectedSigner));
    check('attest.qualifiedSigner', same, same ? 'the enrolled AK' : `${hexOf(attest.qualifiedSigner)}, enrolled ${hexOf(input.expectedSigner)}`);
  }
  const nonceOk = Buffer.from(attest.extraData).equals(Buffer.from(input.nonce));
  check('nonce', nonceOk, nonceOk ? 'extraData equals the nonce' : `extraData ${hexOf(attest.extraData)} is not the nonce ${hexOf(input.nonce)}`);
  if (input.nonces && 'unknown' in input.nonces) {
    check('nonce.fresh', false, `cannot be established: ${input.nonces.unknown}`);
  } else if (input.nonces) {
    const r = input.nonces.redeem(attest.extraData);
    check('nonce.fresh', r === 'fresh', r === 'fresh' ? 'issued by this verifier, first use' : r === 'replayed' ? 'already used by an earlier quote (replay)' : 'never issued by this verifier');
  }

  const ci = attest.clockInfo;
  check('clock.safe', ci.safe === 1, ci.safe === 1 ? 'safe = 1' : 'safe = 0: the clock may have gone backwards');
  checkClock(ci, input.previous, check);

  // Another attestation type has no PCR selection or digest to check: the type check has failed already.
  if (attest.attested.kind !== 'quote') return done({ attest });
  const quote = attest.attested;
  const quoted = formatSelection(quote.pcrSelect);
  if (input.expectedSelection) {
    const same = selectionsEqual(quote.pcrSelect, input.expectedSelection);
    check('selection', same, same ? quoted : `quote selects ${quoted}, expected ${formatSelection(input.expectedSelection)}`);
  } else {
    check('selection', true, `${quoted} (no expected selection given)`);
  }

  const log = decodeEventLog(input.eventLog);
  check('eventlog.decode', log.ok, log.ok ? `${log.value.events.length} events in ${log.value.specId.algorithms.join('+')}` : log.error.message);
  let replayed: PcrBanks | undefined;
  if (log.ok) {
    checkEventData(log.value, check);
    const inLog = log.value.specId.algorithms;
    const notInLog = quote.pcrSelect.filter((s) => s.pcrs.length > 0 && !inLog.includes(s.alg)).map((s) => s.alg);
    const unquoted = inLog.filter((a) => !quote.pcrSelect.some((s) => s.alg === a && s.pcrs.length > 0));
    check(
      'eventlog.banks',
      notInLog.length === 0,
      notInLog.length > 0
        ? `the quote covers ${notInLog.join(', ')}, which the event log does not have`
        : `${inLog.filter((a) => !unquoted.includes(a)).join(', ')} replayed against the quote` +
            (unquoted.length > 0 ? `; ${unquoted.join(', ')} not quoted: only the digests of data-covered events are checked there (eventlog.data)` : ''),
    );
    try {
      replayed = replayEventLog(log.value);
    } catch (e) {
      check('eventlog.replay', false, (e as Error).message);
    }
  }

  if (!replayed) check('pcrDigest', false, 'the event log does not decode, so nothing reproduces the digest');
  else {
    const alg = sigHash ?? HASH_ALGS.find((a) => DIGEST_SIZE[a] === quote.pcrDigest.length);
    const missing = quote.pcrSelect.find((s) => s.pcrs.length > 0 && replayed[s.alg].length === 0);
    if (missing) check('pcrDigest', false, `the event log has no ${missing.alg} bank`);
    else if (!alg) check('pcrDigest', false, `a ${quote.pcrDigest.length}-byte pcrDigest matches no hash`);
    else {
      const want = hashOf(alg, ...selectedValues(replayed, quote.pcrSelect));
      const same = want.equals(Buffer.from(quote.pcrDigest));
      check('pcrDigest', same, same ? `replayed ${quoted} gives the quoted digest` : `quoted ${hexOf(quote.pcrDigest)}, replayed log gives ${want.toString('hex')}`);
    }
  }

  for (const g of input.golden ?? []) {
    const name = `golden.${g.alg}:${g.pcr}`;
    const covered = quote.pcrSelect.some((s) => s.alg === g.alg && s.pcrs.includes(g.pcr));
    const actual = replayed?.[g.alg][g.pcr];
    if (!covered) check(name, false, `PCR ${g.alg}:${g.pcr} is not covered by the quote`);
    else if (!actual) check(name, false, `the event log gives no value for ${g.alg}:${g.pcr}`);
    else {
      const same = Buffer.from(actual).equals(Buffer.from(g.value));
      check(name, same, same ? hexOf(actual) : `replayed ${hexOf(actual)}, golden ${hexOf(g.value)}`);
    }
  }

  if (input.referencePcr !== undefined && log.ok) {
    const unknown = log.value.events.filter((e) => e.pcrIndex === input.referencePcr && e.eventType === EV_EVENT_TAG && taggedId(e.data) === TAG_UNKNOWN_STAGE);
    check(
      'reference.stages',
      unknown.length === 0,
      unknown.length === 0
        ? `every stage was in the reference list (PCR ${input.referencePcr})`
        : `not in the reference list: ${unknown.map((e) => Buffer.from(e.data.subarray(8)).toString('utf8')).join('; ')}`,
    );
  }

  return done(replayed ? { attest, replayed } : { attest });
}

/** Data the digest covers must hash to it, in every bank (event-data-binding.ts says which). */
function checkEventData(log: EventLog, check: (name: string, ok: boolean, detail: string) => boolean): void {
  const bindings = bindEventData(log);
  const bad = bindings.flatMap((b, i) => (b.status === 'mismatch' ? [`#${i + 1} PCR ${log.events[i]!.pcrIndex} ${eventTypeName(log.events[i]!.eventType)}: ${b.detail}`] : []));
  const unbound = bindings.filter((b) => b.status === 'unbound').length;
  check(
    'eventlog.data',
    bad.length === 0,
    bad.length > 0
      ? `data not matching its digest: ${bad.join('; ')}`
      : `${bindings.length - unbound} events' data covered by their digests, ${unbound} with data no digest covers (labels only)`,
  );
}

function taggedId(data: Uint8Array): number | undefined {
  return data.length >= 8 ? Buffer.from(data).readUInt32LE(0) : undefined;
}

/**
 * Keylime's rule: resetCount never goes down; within one reset restartCount never goes down;
 * within one reset and restart the clock strictly increases.
 */
function checkClock(ci: ClockInfo, prev: QuoteVerifyInput['previous'], check: (name: string, ok: boolean, detail: string) => boolean): void {
  if (!prev) {
    check('clock.resetCount', true, `${ci.resetCount} (no previous quote)`);
    check('clock.restartCount', true, `${ci.restartCount} (no previous quote)`);
    check('clock.clock', true, `${ci.clock} ms (no previous quote)`);
    return;
  }
  check('clock.resetCount', ci.resetCount >= prev.resetCount, `${ci.resetCount}, previous ${prev.resetCount}`);
  const sameBoot = ci.resetCount === prev.resetCount;
  check('clock.restartCount', !sameBoot || ci.restartCount >= prev.restartCount, `${ci.restartCount}, previous ${prev.restartCount}${sameBoot ? '' : ' (TPM reset since)'}`);
  const sameRun = sameBoot && ci.restartCount === prev.restartCount;
  check('clock.clock', !sameRun || ci.clock > prev.clock, `${ci.clock} ms, previous ${prev.clock} ms${sameRun ? '' : ' (TPM reset or restart since)'}`);
}

/** Returns the hash a decodable signature names: the quote's pcrDigest uses the same one. */
function checkSignature(input: QuoteVerifyInput, check: (name: string, ok: boolean, detail: string) => boolean): HashAlg | undefined {
  let key: KeyObject;
  try {
    key = createPublicKey(input.akPublicPem);
  } catch (e) {
    check('signature', false, `AK public key does not parse: ${(e as Error).message}`);
    return undefined;
  }
  const sig = decodeSignature(input.signature);
  if (!sig.ok) {
    check('signature', false, sig.error.message);
    return undefined;
  }
  let verdict;
  try {
    verdict = verifyTpm2Signature(key, input.attest, sig.value);
  } catch (e) {
    verdict = { ok: false as const, detail: (e as Error).message };
  }
  check('signature', verdict.ok, verdict.ok ? `${sig.value.sigAlg.toUpperCase()}-${sig.value.hash} by the AK` : verdict.detail);
  return sig.value.hash;
}

function hex(n: number, w: number): string {
  return (n >>> 0).toString(16).padStart(w, '0');
}

function hexOf(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
