import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeEventLog, encodeEventLog } from '../../src/protocol/tcg/event-log.js';
import { efiAction, separator, taggedEvent } from '../../src/protocol/tcg/event-data.js';
import { EV_EFI_ACTION, EV_EVENT_TAG, EV_SEPARATOR } from '../../src/protocol/tcg/event-types.js';
import type { HashAlg } from '../../src/protocol/tcg/hash-alg.js';
import { decodeAttest } from '../../src/protocol/tpm2/attest.js';
import { encodeSignature } from '../../src/protocol/tpm2/signature.js';
import { NonceLedger } from '../../src/trust/nonce-ledger.js';
import { verifyQuote, type QuoteVerifyInput } from '../../src/trust/quote-verifier.js';
import { signTpm2 } from '../../src/trust/tpm-signature.js';
import { VirtualTpm } from '../../src/trust/vtpm.js';

const SELECTION: Array<{ alg: HashAlg; pcrs: number[] }> = [{ alg: 'sha256', pcrs: [0, 4, 7, 13] }];
const NONCE = Buffer.from('c02fc4b4a1b2c3d4e5f60718293a9ab7', 'hex');

function bootedTpm(akType: 'ecc' | 'rsa' = 'ecc'): VirtualTpm {
  let t = 10_000;
  const tpm = new VirtualTpm({ akType, now: () => (t += 7) });
  for (let i = 0; i <= 7; i++) tpm.extend(i, EV_SEPARATOR, separator());
  tpm.extend(4, EV_EFI_ACTION, efiAction('Calling EFI Application from Boot Option'));
  tpm.extend(13, EV_EVENT_TAG, taggedEvent(0x4f4e4945, Buffer.from('{"url":"http://127.0.0.1/demo.bin"}')));
  return tpm;
}

function quoteInput(tpm: VirtualTpm, over: Partial<QuoteVerifyInput> = {}): QuoteVerifyInput {
  const q = tpm.quote(NONCE, SELECTION);
  return {
    attest: q.attest,
    signature: q.signature,
    akPublicPem: tpm.ak.publicPem,
    nonce: NONCE,
    eventLog: tpm.eventLog(),
    expectedSelection: SELECTION,
    golden: [0, 7, 13].map((pcr) => ({ alg: 'sha256' as const, pcr, value: tpm.pcr('sha256', pcr) })),
    ...over,
  };
}

const failing = (input: QuoteVerifyInput): string[] =>
  verifyQuote(input)
    .checks.filter((c) => !c.ok)
    .map((c) => c.name);

/** An attacker-controlled key that signs whatever it is given, for tampering beyond the TPM's rules. */
function attackerKey(): { key: KeyObject; pem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { key: privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

function firmwareVersionOffset(attest: Buffer): number {
  const nameLen = attest.readUInt16BE(6);
  const dataLen = attest.readUInt16BE(8 + nameLen);
  return 8 + nameLen + 2 + dataLen + 17;
}

describe('verifyQuote', () => {
  it.each(['ecc', 'rsa'] as const)('accepts an honest %s quote, naming every check', (akType) => {
    const tpm = bootedTpm(akType);
    const v = verifyQuote(quoteInput(tpm));
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.checks.map((c) => c.name)).toEqual([
      'attest.decode',
      'attest.magic',
      'attest.type',
      'signature',
      'nonce',
      'clock.safe',
      'clock.resetCount',
      'clock.restartCount',
      'clock.clock',
      'selection',
      'eventlog.decode',
      'eventlog.data',
      'eventlog.banks',
      'pcrDigest',
      'golden.sha256:0',
      'golden.sha256:7',
      'golden.sha256:13',
    ]);
    expect(v.attest?.clockInfo.safe).toBe(1);
    expect(Buffer.from(v.replayed!.sha256[13]!).equals(Buffer.from(tpm.pcr('sha256', 13)))).toBe(true);
  });

  it('accepts a quote over sha1 and sha256 together, hashing both banks with the signing hash', () => {
    const tpm = bootedTpm();
    const sel: Array<{ alg: HashAlg; pcrs: number[] }> = [{ alg: 'sha1', pcrs: [0, 4] }, { alg: 'sha256', pcrs: [0, 4, 7] }];
    const q = tpm.quote(NONCE, sel);
    expect(verifyQuote({ attest: q.attest, signature: q.signature, akPublicPem: tpm.ak.publicPem, nonce: NONCE, eventLog: tpm.eventLog(), expectedSelection: sel }).ok).toBe(true);
  });

  it('fails only the signature when one byte of the attest is flipped', () => {
    const input = quoteInput(bootedTpm());
    const attest = Buffer.from(input.attest);
    attest[firmwareVersionOffset(attest)]! ^= 0x01;
    expect(failing({ ...input, attest })).toEqual(['signature']);
  });

  it('fails only nonce.fresh for a replayed quote and for a nonce the verifier never issued', () => {
    const tpm = bootedTpm();
    const ledger = new NonceLedger();
    const nonce = ledger.issue();
    const input = quoteInput(tpm, { nonce, nonces: ledger });
    const q = tpm.quote(nonce, SELECTION);
    const fresh = { ...input, attest: q.attest, signature: q.signature };
    expect(failing(fresh)).toEqual([]);
    expect(verifyQuote(fresh).checks.find((c) => c.name === 'nonce.fresh')?.detail).toMatch(/already used/);
    const selfChosen = Buffer.alloc(16, 7);
    const q2 = tpm.quote(selfChosen, SELECTION);
    const v = verifyQuote({ ...input, nonce: selfChosen, attest: q2.attest, signature: q2.signature });
    expect(v.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)).toEqual(['nonce.fresh: never issued by this verifier']);
  });

  it('fails only attest.qualifiedSigner when the quote names another AK than the enrolled one', () => {
    const tpm = bootedTpm();
    const other = new VirtualTpm();
    expect(failing(quoteInput(tpm, { expectedSigner: tpm.akQualifiedName }))).toEqual([]);
    expect(failing(quoteInput(tpm, { expectedSigner: other.akQualifiedName }))).toEqual(['attest.qualifiedSigner']);
  });

  it('fails only the nonce when the verifier sent another nonce', () => {
    expect(failing({ ...quoteInput(bootedTpm()), nonce: Buffer.alloc(16, 1) })).toEqual(['nonce']);
  });

  it('fails only the signature for another AK, and says so for a key of the wrong type', () => {
    const input = quoteInput(bootedTpm('ecc'));
    expect(failing({ ...input, akPublicPem: new VirtualTpm().ak.publicPem })).toEqual(['signature']);
    const rsa = verifyQuote({ ...input, akPublicPem: new VirtualTpm({ akType: 'rsa' }).ak.publicPem });
    expect(rsa.checks.find((c) => c.name === 'signature')).toMatchObject({ ok: false, detail: expect.stringMatching(/ECDSA signature cannot come from a rsa key/) });
  });

  it('rejects an RSASSA signature presented for an ECC key without trying it', () => {
    const input = quoteInput(bootedTpm('ecc'));
    const forged = encodeSignature({ sigAlg: 'rsassa', hash: 'sha256', sig: Buffer.alloc(256, 1) });
    const v = verifyQuote({ ...input, signature: forged });
    expect(v.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail])).toEqual([['signature', 'an RSASSA signature cannot come from a ec key']]);
  });

  it('fails pcrDigest, and eventlog.data since the action text no longer hashes to it, when one digest in the event log is flipped', () => {
    const input = quoteInput(bootedTpm());
    const log = decodeEventLog(input.eventLog);
    if (!log.ok) throw log.error;
    log.value.events.find((e) => e.pcrIndex === 4 && e.eventType === EV_EFI_ACTION)!.digests[1]!.digest[0]! ^= 0x80;
    expect(failing({ ...input, eventLog: encodeEventLog(log.value) })).toEqual(['eventlog.data', 'pcrDigest']);
  });

  it('12: fails only eventlog.data when the action text is rewritten and every digest kept', () => {
    const input = quoteInput(bootedTpm());
    const log = decodeEventLog(input.eventLog);
    if (!log.ok) throw log.error;
    log.value.events.find((e) => e.pcrIndex === 4 && e.eventType === EV_EFI_ACTION)!.data = Buffer.from('Calling EFI Application from Evil Option');
    const v = verifyQuote({ ...input, eventLog: encodeEventLog(log.value) });
    expect(v.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['eventlog.data']);
    expect(v.checks.find((c) => c.name === 'eventlog.data')?.detail).toMatch(/#9 PCR 4 EV_EFI_ACTION: .*banks not matching: sha1, sha256/);
  });

  it('12: fails only eventlog.data when an unquoted sha1 digest of a data-covered event is edited', () => {
    const input = quoteInput(bootedTpm());
    const log = decodeEventLog(input.eventLog);
    if (!log.ok) throw log.error;
    log.value.events.find((e) => e.pcrIndex === 0)!.digests.find((d) => d.alg === 'sha1')!.digest[3]! ^= 0x10;
    const v = verifyQuote({ ...input, eventLog: encodeEventLog(log.value) });
    expect(v.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`)).toEqual([expect.stringMatching(/^eventlog\.data: .*#1 PCR 0 EV_SEPARATOR: .*banks not matching: sha1\)$/)]);
    expect(v.checks.find((c) => c.name === 'eventlog.banks')?.detail).toMatch(/sha256 replayed against the quote; sha1 not quoted/);
  });

  it('fails pcrDigest and the golden value when the log hides an event', () => {
    const input = quoteInput(bootedTpm());
    const log = decodeEventLog(input.eventLog);
    if (!log.ok) throw log.error;
    log.value.events = log.value.events.filter((e) => e.pcrIndex !== 13);
    expect(failing({ ...input, eventLog: encodeEventLog(log.value) })).toEqual(['pcrDigest', 'golden.sha256:13']);
  });

  it('fails eventlog.decode and pcrDigest for a log that does not parse', () => {
    const input = quoteInput(bootedTpm());
    expect(failing({ ...input, eventLog: Buffer.from(input.eventLog).subarray(0, 40), golden: [] })).toEqual(['eventlog.decode', 'pcrDigest']);
  });

  it('fails only the golden value that differs', () => {
    const input = quoteInput(bootedTpm());
    const golden = input.golden!.map((g) => (g.pcr === 7 ? { ...g, value: Buffer.alloc(32, 0xee) } : g));
    expect(failing({ ...input, golden })).toEqual(['golden.sha256:7']);
  });

  it('fails a golden value for a PCR the quote does not cover', () => {
    const tpm = bootedTpm();
    const input = quoteInput(tpm);
    expect(failing({ ...input, golden: [{ alg: 'sha256', pcr: 5, value: tpm.pcr('sha256', 5) }] })).toEqual(['golden.sha256:5']);
  });

  it('fails only the magic for data the AK signed through TPM2_Sign', () => {
    const tpm = bootedTpm();
    const input = quoteInput(tpm);
    const attest = Buffer.from(input.attest);
    attest.writeUInt32BE(0x12345678, 0);
    expect(failing({ ...input, attest, signature: tpm.sign(attest) })).toEqual(['attest.magic']);
  });

  it('fails only the type for a re-signed attestation of another type', () => {
    const input = quoteInput(bootedTpm());
    const attacker = attackerKey();
    const attest = Buffer.from(input.attest);
    attest.writeUInt16BE(0x8017, 4); // TPM_ST_ATTEST_CERTIFY
    expect(failing({ ...input, attest, signature: signTpm2(attacker.key, attest), akPublicPem: attacker.pem })).toEqual(['attest.type']);
  });

  it('fails only the selection when the quote covers other PCRs than asked for', () => {
    const tpm = bootedTpm();
    const q = tpm.quote(NONCE, [{ alg: 'sha256', pcrs: [0, 4] }]);
    const input = quoteInput(tpm, { attest: q.attest, signature: q.signature, golden: [] });
    expect(failing(input)).toEqual(['selection']);
  });

  it('fails only clock.safe when safe is 0', () => {
    const input = quoteInput(bootedTpm());
    const attacker = attackerKey();
    const attest = Buffer.from(input.attest);
    attest[firmwareVersionOffset(attest) - 1] = 0;
    expect(decodeAttest(attest).ok).toBe(true);
    expect(failing({ ...input, attest, signature: signTpm2(attacker.key, attest), akPublicPem: attacker.pem })).toEqual(['clock.safe']);
  });

  it('checks clock, resetCount and restartCount against the previous quote', () => {
    const tpm = bootedTpm();
    const input = quoteInput(tpm);
    const a = decodeAttest(input.attest);
    if (!a.ok) throw a.error;
    const { clock, resetCount, restartCount } = a.value.clockInfo;
    expect(failing({ ...input, previous: { clock: clock - 1n, resetCount, restartCount } })).toEqual([]);
    expect(failing({ ...input, previous: { clock: clock + 1000n, resetCount, restartCount } })).toEqual(['clock.clock']);
    expect(failing({ ...input, previous: { clock, resetCount, restartCount } })).toEqual(['clock.clock']);
    expect(failing({ ...input, previous: { clock: clock - 1n, resetCount: resetCount + 1, restartCount: 0 } })).toEqual(['clock.resetCount']);
    expect(failing({ ...input, previous: { clock: clock - 1n, resetCount, restartCount: restartCount + 1 } })).toEqual(['clock.restartCount']);
  });

  it('accepts the next boot after a power cycle as newer than the last quote', () => {
    const tpm = bootedTpm();
    const first = decodeAttest(tpm.quote(NONCE, SELECTION).attest);
    if (!first.ok) throw first.error;
    tpm.reset();
    tpm.extend(0, EV_SEPARATOR, separator());
    const input = quoteInput(tpm, { golden: [] });
    const { clock, resetCount, restartCount } = first.value.clockInfo;
    expect(failing({ ...input, previous: { clock, resetCount, restartCount } })).toEqual([]);
    expect(failing({ ...input, eventLog: bootedTpm().eventLog() })).toEqual(['pcrDigest']);
  });

  it('refuses SHA-1 signatures even when they verify', () => {
    const input = quoteInput(bootedTpm());
    const attacker = attackerKey();
    const v = verifyQuote({ ...input, signature: signTpm2(attacker.key, input.attest, 'sha1'), akPublicPem: attacker.pem });
    expect(v.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['signature', 'pcrDigest']);
    expect(v.checks.find((c) => c.name === 'signature')?.detail).toMatch(/sha1 signatures are not accepted/);
  });

  it('verifies RSA-PSS signatures', () => {
    const input = quoteInput(bootedTpm());
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signature = signTpm2(privateKey, input.attest, 'sha256', 'rsapss');
    expect(failing({ ...input, signature, akPublicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() })).toEqual([]);
  });

  it('stops after the signature check when the attest does not decode', () => {
    const input = quoteInput(bootedTpm());
    const v = verifyQuote({ ...input, attest: Buffer.from(input.attest).subarray(0, 30) });
    expect(v.checks.map((c) => [c.name, c.ok])).toEqual([
      ['attest.decode', false],
      ['signature', false],
    ]);
    expect(v.checks[0]!.detail).toMatch(/truncated qualifiedSigner at offset 8/);
  });

  it('reports an unparsable AK key and an unparsable signature as signature failures', () => {
    const input = quoteInput(bootedTpm());
    expect(failing({ ...input, akPublicPem: 'not a key' })).toEqual(['signature']);
    expect(failing({ ...input, signature: Buffer.from('0018000b', 'hex') })).toEqual(['signature']);
  });
});
