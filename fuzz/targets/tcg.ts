import fc from 'fast-check';
import { decodeEventLog, defaultSpecId, encodeEventLog, type TcgEvent } from '../../src/protocol/tcg/event-log.js';
import { DIGEST_SIZE, HASH_ALGS } from '../../src/protocol/tcg/hash-alg.js';
import { ascii, expectResult, expectRoundTrip, outcome, type FuzzTarget } from '../target.js';

const logArbitrary = fc.uniqueArray(fc.constantFrom(...HASH_ALGS), { minLength: 1, maxLength: 3 }).chain((banks) =>
  fc
    .array(
      fc.record({ pcrIndex: fc.integer({ min: 0, max: 23 }), eventType: fc.constantFrom(1, 4, 5, 0x80000001, 0x80000003, 0x80000007), data: fc.uint8Array({ maxLength: 40 }) }),
      { maxLength: 5 },
    )
    .map((events) => {
      const full: TcgEvent[] = events.map((e) => ({ ...e, digests: banks.map((alg) => ({ alg, digest: new Uint8Array(DIGEST_SIZE[alg]).fill(e.pcrIndex) })) }));
      return Uint8Array.from(encodeEventLog({ specId: defaultSpecId(banks), events: full }));
    }),
);

export const tcgEventLog: FuzzTarget = {
  name: 'tcg-event-log',
  about: 'decodeEventLog (TCG PC Client crypto-agile log: Spec ID Event03 header, TCG_PCR_EVENT2 entries); round trip through encodeEventLog',
  maxLen: 4096,
  arbitrary: logArbitrary,
  dictionary: [...ascii('Spec ID Event03\0'), Uint8Array.of(3, 0, 0, 0), Uint8Array.of(0x0b, 0, 0x20, 0), Uint8Array.of(4, 0, 0x14, 0), Uint8Array.of(0x0c, 0, 0x30, 0)],
  check(input) {
    const r = expectResult(() => decodeEventLog(input, { maxEvents: 64, maxEventSize: 2048 }), input.length);
    if (!r.ok) return outcome(r);
    expectRoundTrip(r.value, encodeEventLog, (b) => decodeEventLog(b), 'tcg-event-log');
    return outcome(r, `${r.value.specId.algorithms.join('+')}:${Math.min(r.value.events.length, 9)}`);
  },
};
