import fc from 'fast-check';
import { decodeAttest, encodeQuoteAttest, TPM_GENERATED_VALUE, TPM_ST_ATTEST_QUOTE, type Tpm2Attest } from '../../src/protocol/tpm2/attest.js';
import { decodePcrSelection, encodePcrSelection } from '../../src/protocol/tpm2/pcr-selection.js';
import { decodePcrsFile, encodePcrsFile } from '../../src/protocol/tpm2/pcrs-file.js';
import { AK_OBJECT_ATTRIBUTES, decodeTpm2bPublic, decodeTpmtPublic, encodeTpm2bPublic, encodeTpmtPublic, type TpmtPublic } from '../../src/protocol/tpm2/public.js';
import { decodeSignature, encodeSignature } from '../../src/protocol/tpm2/signature.js';
import { HASH_ALGS } from '../../src/protocol/tcg/hash-alg.js';
import { expectResult, expectRoundTrip, outcome, type FuzzTarget } from '../target.js';

const selectionArbitrary = fc.uniqueArray(fc.constantFrom(...HASH_ALGS), { maxLength: 3 }).chain((algs) =>
  fc.tuple(...algs.map((alg) => fc.uniqueArray(fc.integer({ min: 0, max: 23 }), { maxLength: 24 }).map((pcrs) => ({ alg, pcrs: pcrs.sort((a, b) => a - b) })))),
);
const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });

const quoteArbitrary = fc
  .record({
    qualifiedSigner: bytes(66),
    extraData: bytes(66),
    clockInfo: fc.record({ clock: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), resetCount: fc.nat(), restartCount: fc.nat(), safe: fc.constantFrom(0, 1) }),
    firmwareVersion: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    pcrSelect: selectionArbitrary,
    pcrDigest: bytes(64),
  })
  .map((q) => Uint8Array.from(encodeQuoteAttest(q)));

/** What the encoder can write back: a TPM-generated quote (other attestation types stay raw). */
function quoteInput(a: Tpm2Attest) {
  if (a.attested.kind !== 'quote' || a.magic !== TPM_GENERATED_VALUE || a.type !== TPM_ST_ATTEST_QUOTE) return undefined;
  return { qualifiedSigner: a.qualifiedSigner, extraData: a.extraData, clockInfo: a.clockInfo, firmwareVersion: a.firmwareVersion, pcrSelect: a.attested.pcrSelect, pcrDigest: a.attested.pcrDigest };
}

export const tpm2Attest: FuzzTarget = {
  name: 'tpm2-attest',
  about: 'decodeAttest (TPMS_ATTEST, quote and other types); a quote round-trips through encodeQuoteAttest',
  maxLen: 512,
  arbitrary: quoteArbitrary,
  dictionary: [Uint8Array.of(0xff, 0x54, 0x43, 0x47, 0x80, 0x18), Uint8Array.of(0, 0, 0, 1, 0, 0x0b, 3, 0xff, 0xff, 0xff)],
  check(input) {
    const r = expectResult(() => decodeAttest(input), input.length);
    if (!r.ok) return outcome(r);
    const q = quoteInput(r.value);
    if (q) {
      expectRoundTrip(q, encodeQuoteAttest, (b) => {
        const d = decodeAttest(b);
        return d.ok ? { ok: true as const, value: quoteInput(d.value)! } : d;
      }, 'tpm2-attest');
    }
    return outcome(r, r.value.attested.kind);
  },
};

const eccPublic = fc
  .record({ x: bytes(66), y: bytes(66), authPolicy: bytes(32) })
  .map(({ x, y, authPolicy }) => {
    const p: TpmtPublic = { type: 'ecc', nameAlg: 'sha256', objectAttributes: AK_OBJECT_ATTRIBUTES, authPolicy, symmetric: null, scheme: { alg: 0x0018, hash: 'sha256' }, curveId: 3, kdf: null, x, y };
    return Uint8Array.from(encodeTpm2bPublic(p));
  });

export const tpm2Public: FuzzTarget = {
  name: 'tpm2-public',
  about: 'decodeTpm2bPublic and decodeTpmtPublic (RSA and ECC keys, AK and EK templates); round trip through the encoders',
  maxLen: 1024,
  arbitrary: eccPublic,
  dictionary: [Uint8Array.of(0, 1, 0, 0x0b), Uint8Array.of(0, 0x23, 0, 0x0b), Uint8Array.of(0, 0x10), Uint8Array.of(0, 6, 0, 0x80, 0, 0x43)],
  check(input) {
    const sized = expectResult(() => decodeTpm2bPublic(input), input.length);
    if (sized.ok) expectRoundTrip(sized.value, encodeTpm2bPublic, (b) => decodeTpm2bPublic(b), 'tpm2-public (TPM2B)');
    const r = expectResult(() => decodeTpmtPublic(input), input.length);
    if (r.ok) expectRoundTrip(r.value, encodeTpmtPublic, (b) => decodeTpmtPublic(b), 'tpm2-public');
    return `${outcome(sized, sized.ok ? sized.value.type : '')}|${outcome(r, r.ok ? r.value.type : '')}`;
  },
};

export const tpm2Signature: FuzzTarget = {
  name: 'tpm2-signature',
  about: 'decodeSignature (TPMT_SIGNATURE: RSASSA, RSAPSS, ECDSA); round trip through encodeSignature',
  maxLen: 1024,
  dictionary: [Uint8Array.of(0, 0x14, 0, 0x0b), Uint8Array.of(0, 0x16, 0, 0x0c), Uint8Array.of(0, 0x18, 0, 0x0b, 0, 0x20)],
  check(input) {
    const r = expectResult(() => decodeSignature(input), input.length);
    if (r.ok) expectRoundTrip(r.value, encodeSignature, (b) => decodeSignature(b), 'tpm2-signature');
    return outcome(r, r.ok ? r.value.sigAlg : '');
  },
};

export const tpm2PcrSelection: FuzzTarget = {
  name: 'tpm2-pcr-selection',
  about: 'decodePcrSelection (TPML_PCR_SELECTION); round trip through encodePcrSelection',
  maxLen: 256,
  arbitrary: selectionArbitrary.map((s) => Uint8Array.from(encodePcrSelection(s))),
  check(input) {
    const r = expectResult(() => decodePcrSelection(input), input.length);
    if (r.ok) expectRoundTrip(r.value, encodePcrSelection, (b) => decodePcrSelection(b), 'tpm2-pcr-selection');
    return outcome(r, r.ok ? String(r.value.length) : '');
  },
};

export const tpm2PcrsFile: FuzzTarget = {
  name: 'tpm2-pcrs-file',
  about: "decodePcrsFile (tpm2-tools' serialized PCR values); round trip through encodePcrsFile",
  maxLen: 8192,
  arbitrary: selectionArbitrary.map((sel) =>
    Uint8Array.from(encodePcrsFile(sel, sel.flatMap(({ alg, pcrs }) => pcrs.map((p) => new Uint8Array(alg === 'sha1' ? 20 : alg === 'sha256' ? 32 : 48).fill(p))))),
  ),
  check(input) {
    const r = expectResult(() => decodePcrsFile(input), input.length);
    if (r.ok) expectRoundTrip(r.value, (v) => encodePcrsFile(v.selection, v.values), (b) => decodePcrsFile(b), 'tpm2-pcrs-file');
    return outcome(r, r.ok ? String(r.value.values.length) : '');
  },
};
