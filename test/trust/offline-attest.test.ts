import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { efiAction, separator } from '../../src/protocol/tcg/event-data.js';
import { EV_EFI_ACTION, EV_SEPARATOR } from '../../src/protocol/tcg/event-types.js';
import { decodeAttest, encodeQuoteAttest } from '../../src/protocol/tpm2/attest.js';
import type { AttestationPolicy } from '../../src/trust/attestation-policy.js';
import { enrolledAk, enrolledQualifiedName } from '../../src/trust/enrolled-ak.js';
import type { LedgerEntry, LedgerView } from '../../src/trust/nonce-ledger-file.js';
import { verifyEvidence, type OfflineTrust } from '../../src/trust/offline-attest.js';
import { signTpm2 } from '../../src/trust/tpm-signature.js';
import { VirtualTpm, type VirtualTpmOptions } from '../../src/trust/vtpm.js';

const SELECTION = [{ alg: 'sha256' as const, pcrs: [0, 4] }];

function booted(opts: VirtualTpmOptions = {}): VirtualTpm {
  let t = 5_000;
  const tpm = new VirtualTpm({ now: () => (t += 11), ...opts });
  for (let i = 0; i <= 7; i++) tpm.extend(i, EV_SEPARATOR, separator());
  tpm.extend(4, EV_EFI_ACTION, efiAction('Calling EFI Application from Boot Option'));
  return tpm;
}

const policyOf = (tpm: VirtualTpm): AttestationPolicy => ({ selection: SELECTION, golden: [{ alg: 'sha256', pcr: 4, value: tpm.pcr('sha256', 4) }] });

/** An in-memory ledger with the file ledger's lookups. */
function memoryLedger(entries: LedgerEntry[] = []): LedgerView & { entries: LedgerEntry[] } {
  return { entries, seen: (n, q) => entries.find((e) => e.nonce === n || e.quote === q), lastOf: (s) => entries.findLast((e) => e.signer === s) };
}

const failing = (v: { checks: Array<{ name: string; ok: boolean }> }) => v.checks.filter((c) => !c.ok).map((c) => c.name);

describe('enrolledQualifiedName', () => {
  it.each([
    ['ecc', { akType: 'ecc', ekType: 'ecc' }, 'rsassa'],
    ['rsa', { akType: 'rsa', ekType: 'rsa' }, 'rsassa'],
    ['rsa-pss', { akType: 'rsa', akScheme: 'rsapss', ekType: 'ecc' }, 'rsapss'],
  ] as const)('gives the qualified name the TPM signs into its quotes (%s AK)', (_n, opts, scheme) => {
    const tpm = new VirtualTpm(opts);
    expect(enrolledQualifiedName(createPublicKey(tpm.ak.publicPem), createPublicKey(tpm.ek.publicPem), scheme).equals(tpm.akQualifiedName)).toBe(true);
  });
});

describe('verifyEvidence', () => {
  it('passes an honest quote with every input from outside, and returns what the ledger records', () => {
    const tpm = booted();
    const nonce = Buffer.alloc(16, 3);
    const q = tpm.quote(nonce, SELECTION);
    const trust: OfflineTrust = { ak: enrolledAk(tpm.ak.publicPem, tpm.ek.publicPem), nonce, policy: policyOf(tpm), ledger: memoryLedger() };
    const v = verifyEvidence({ attest: q.attest, signature: q.signature, eventLog: tpm.eventLog(), dirAkPem: tpm.ak.publicPem }, trust);
    expect(failing(v)).toEqual([]);
    expect(v.checks.map((c) => c.name)).toEqual(expect.arrayContaining(['attest.akPinned', 'attest.qualifiedSigner', 'nonce.fresh', 'eventlog.data', 'policy.golden']));
    expect(v.entry).toMatchObject({ nonce: nonce.toString('hex'), signer: tpm.akQualifiedName.toString('hex'), resetCount: 0 });
  });

  it("12: fails clock.clock when the ledger's last accepted quote of this AK is later than this one", () => {
    const tpm = booted();
    const older = tpm.quote(Buffer.alloc(16, 1), SELECTION);
    const newer = tpm.quote(Buffer.alloc(16, 2), SELECTION);
    const ledger = memoryLedger();
    const ak = enrolledAk(tpm.ak.publicPem, tpm.ek.publicPem);
    const judge = (q: typeof older, nonce: Buffer) => verifyEvidence({ attest: q.attest, signature: q.signature, eventLog: tpm.eventLog() }, { ak, nonce, policy: policyOf(tpm), ledger });
    const first = judge(newer, Buffer.alloc(16, 2));
    expect(failing(first)).toEqual([]);
    ledger.entries.push(first.entry!);
    const late = judge(older, Buffer.alloc(16, 1));
    expect(failing(late)).toEqual(['clock.clock']);
    expect(late.entry).toBeUndefined();
  });

  it('fails clock.safe for a quote the pinned AK signed with safe = 0', () => {
    const tpm = booted();
    const nonce = Buffer.alloc(16, 4);
    const q = decodeAttest(tpm.quote(nonce, SELECTION).attest);
    if (!q.ok || q.value.attested.kind !== 'quote') throw new Error('no quote');
    // A TPM after a disorderly shutdown: its key is ours here, so that it can sign what a real TPM would.
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const attest = encodeQuoteAttest({ ...q.value, clockInfo: { ...q.value.clockInfo, safe: 0 }, pcrSelect: q.value.attested.pcrSelect, pcrDigest: q.value.attested.pcrDigest });
    const v = verifyEvidence(
      { attest, signature: signTpm2(key.privateKey, attest), eventLog: tpm.eventLog() },
      { ak: enrolledAk(key.publicKey.export({ type: 'spki', format: 'pem' }).toString()), nonce, policy: policyOf(tpm), ledger: memoryLedger() },
    );
    expect(failing(v)).toEqual(['attest.qualifiedSigner', 'clock.safe']);
  });

  it('12: fails clock.previous for a --previous quote of another AK, and nonce.fresh for a nonce the verifier did not give', () => {
    const tpm = booted();
    const other = booted();
    const nonce = Buffer.alloc(16, 5);
    const q = tpm.quote(Buffer.alloc(16, 6), SELECTION);
    const v = verifyEvidence(
      { attest: q.attest, signature: q.signature, eventLog: tpm.eventLog() },
      { ak: enrolledAk(tpm.ak.publicPem, tpm.ek.publicPem), nonce, policy: policyOf(tpm), ledger: memoryLedger(), previous: other.quote(nonce, SELECTION).attest },
    );
    expect(v.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)).toEqual([
      expect.stringMatching(/^nonce: extraData 0606/),
      'nonce.fresh: never issued by this verifier',
      expect.stringMatching(/^clock\.previous: the --previous quote is from another AK/),
    ]);
  });
});
