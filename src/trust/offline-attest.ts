import { createHash, createPublicKey } from 'node:crypto';
import { decodeAttest, type ClockInfo } from '../protocol/tpm2/attest.js';
import { decodeSignature } from '../protocol/tpm2/signature.js';
import type { AttestationPolicy } from './attestation-policy.js';
import { enrolledQualifiedName, spkiFingerprint, type EnrolledAk } from './enrolled-ak.js';
import type { LedgerEntry, LedgerView } from './nonce-ledger-file.js';
import type { NonceRedeemer } from './nonce-ledger.js';
import { verifyQuote, type QuoteCheck, type QuoteVerdict } from './quote-verifier.js';

/**
 * `bootlab attest verify`'s judgement of an evidence directory. Nothing in the directory is
 * trusted: the AK (and EK) come from enrolment, the nonce and the policy from the verifier,
 * the replay memory and the last clock from a ledger file. What cannot be established from
 * those is a failed check saying so, never a skipped one.
 */
export interface OfflineEvidence {
  attest: Uint8Array;
  signature: Uint8Array;
  eventLog: Uint8Array;
  /** The directory's ak.pub.pem: used only to show what an unpinned run would have checked. */
  dirAkPem?: string | undefined;
}

export interface OfflineTrust {
  /** --ak (and --ek). */
  ak?: EnrolledAk | undefined;
  nonce: Uint8Array;
  policy: AttestationPolicy;
  /** --previous: the TPMS_ATTEST of the last quote accepted from this device. */
  previous?: Uint8Array | undefined;
  /** --ledger, read under its lock. */
  ledger?: LedgerView | undefined;
  now?: () => Date;
}

export interface OfflineVerdict extends QuoteVerdict {
  /** What the ledger records when the verdict is a pass. */
  entry?: LedgerEntry;
}

export function verifyEvidence(ev: OfflineEvidence, trust: OfflineTrust): OfflineVerdict {
  const pre: QuoteCheck[] = [];
  const post: QuoteCheck[] = [];
  const decoded = decodeAttest(ev.attest);
  const attest = decoded.ok ? decoded.value : undefined;
  const signerHex = attest ? hex(attest.qualifiedSigner) : '';
  const quoteHex = createHash('sha256').update(ev.attest).digest('hex');
  const nonceHex = hex(trust.nonce);

  pre.push(akPinnedCheck(ev, trust.ak));
  const sig = decodeSignature(ev.signature);
  const rsaScheme = sig.ok && sig.value.sigAlg === 'rsapss' ? 'rsapss' : 'rsassa';
  const expectedSigner = !trust.ak
    ? { unknown: 'no AK is pinned (--ak)' }
    : !trust.ak.ek
      ? { unknown: "no --ek: the AK's qualified name follows from the EK it was enrolled under" }
      : enrolledQualifiedName(trust.ak.key, trust.ak.ek, rsaScheme);

  const ledger = trust.ledger;
  const nonces: NonceRedeemer | { unknown: string } = ledger
    ? { redeem: (n) => (hex(n) !== nonceHex ? 'unknown' : ledger.seen(nonceHex, quoteHex) ? 'replayed' : 'fresh') }
    : { unknown: 'no --ledger: nothing rules out that this evidence was accepted before' };

  let previous: ClockInfo | undefined;
  if (trust.previous) {
    const p = decodeAttest(trust.previous);
    if (!p.ok) post.push({ name: 'clock.previous', ok: false, detail: `the --previous quote does not decode: ${p.error.message}` });
    else if (attest && hex(p.value.qualifiedSigner) !== signerHex) {
      post.push({ name: 'clock.previous', ok: false, detail: `the --previous quote is from another AK (qualifiedSigner ${hex(p.value.qualifiedSigner)})` });
    } else {
      previous = p.value.clockInfo;
      post.push({ name: 'clock.previous', ok: true, detail: `--previous: clock ${previous.clock} ms, resetCount ${previous.resetCount}, restartCount ${previous.restartCount}` });
    }
  }
  const last = attest ? ledger?.lastOf(signerHex) : undefined;
  if (last) {
    const fromLedger = { clock: BigInt(last.clock), resetCount: last.resetCount, restartCount: last.restartCount, safe: 1 };
    if (!previous || later(fromLedger, previous)) previous = fromLedger;
  }

  const v = verifyQuote({
    attest: ev.attest,
    signature: ev.signature,
    akPublicPem: trust.ak ? trust.ak.key.export({ type: 'spki', format: 'pem' }).toString() : (ev.dirAkPem ?? ''),
    nonce: trust.nonce,
    eventLog: ev.eventLog,
    expectedSelection: trust.policy.selection,
    golden: trust.policy.golden,
    referencePcr: trust.policy.referencePcr,
    expectedSigner,
    nonces,
    previous,
  });
  post.push(
    trust.policy.golden.length > 0
      ? { name: 'policy.golden', ok: true, detail: `${trust.policy.golden.length} golden values` }
      : { name: 'policy.golden', ok: false, detail: 'the policy has no golden values: nothing says what should have booted' },
  );
  const checks = [...pre, ...v.checks, ...post];
  const ok = checks.every((c) => c.ok);
  const out: OfflineVerdict = { ...v, ok, checks };
  if (ok && attest) {
    const ci = attest.clockInfo;
    out.entry = {
      nonce: nonceHex,
      quote: quoteHex,
      signer: signerHex,
      clock: ci.clock.toString(),
      resetCount: ci.resetCount,
      restartCount: ci.restartCount,
      at: (trust.now ?? (() => new Date()))().toISOString(),
    };
  }
  return out;
}

function akPinnedCheck(ev: OfflineEvidence, ak: EnrolledAk | undefined): QuoteCheck {
  if (!ak) return { name: 'attest.akPinned', ok: false, detail: "no --ak: the directory's own ak.pub.pem proves nothing (any key can sign a quote)" };
  let dir = 'no ak.pub.pem in the directory';
  if (ev.dirAkPem !== undefined) {
    try {
      dir = spkiFingerprint(createPublicKey(ev.dirAkPem)) === ak.fingerprint ? "the directory's ak.pub.pem is the same key" : "the directory's ak.pub.pem is another key (ignored)";
    } catch {
      dir = "the directory's ak.pub.pem does not parse (ignored)";
    }
  }
  return { name: 'attest.akPinned', ok: true, detail: `--ak sha256:${ak.fingerprint.slice(0, 16)}…; ${dir}` };
}

/** Clock order across a TPM's life: resetCount, then restartCount, then clock. */
function later(a: ClockInfo, b: ClockInfo): boolean {
  if (a.resetCount !== b.resetCount) return a.resetCount > b.resetCount;
  if (a.restartCount !== b.restartCount) return a.restartCount > b.restartCount;
  return a.clock > b.clock;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
