import fc from 'fast-check';
import { parseSharchHeader, renderSharchHeader } from '../../src/protocol/sharch/layout.js';
import { Violation, ascii, expectResult, outcome, type FuzzTarget } from '../target.js';

const headerArbitrary = fc
  .record({ payloadSha1: fc.stringMatching(/^[0-9a-f]{40}$/), payloadSize: fc.integer({ min: 0, max: 2 ** 40 }), updaterCookie: fc.boolean(), tail: fc.uint8Array({ maxLength: 64 }) })
  .map(({ tail, ...h }) => Uint8Array.from([...renderSharchHeader(h), ...tail]));

/** A small limit too, so the 'limit' branch and its offset are reached by short inputs. */
const SMALL_LIMIT = 1024;

export const sharch: FuzzTarget = {
  name: 'sharch',
  about: 'parseSharchHeader (ONIE self-extracting installer header) at the default and a small header limit; round trip through renderSharchHeader',
  maxLen: 4096,
  arbitrary: headerArbitrary,
  dictionary: ascii('\nexit_marker\n', 'payload_sha1=', 'payload_image_size=', '## ONIE-UPDATER-COOKIE\n', '0123456789abcdef0123456789abcdef01234567', '\n'),
  check(input) {
    expectResult(() => parseSharchHeader(input, { maxHeaderBytes: SMALL_LIMIT }), input.length);
    const r = expectResult(() => parseSharchHeader(input), input.length);
    if (!r.ok) return outcome(r);
    const v = r.value;
    if (v.headerLength > input.length) throw new Violation(`headerLength ${v.headerLength} past the input's ${input.length} bytes`);
    const again = parseSharchHeader(renderSharchHeader(v));
    if (!again.ok) throw new Violation(`rendered header does not parse: ${again.error.message}`);
    const same = again.value.payloadSha1 === v.payloadSha1 && again.value.payloadSize === v.payloadSize && again.value.updaterCookie === v.updaterCookie;
    if (!same) throw new Violation(`round trip changed the header: ${JSON.stringify(v)} -> ${JSON.stringify(again.value)}`);
    return outcome(r, String(v.updaterCookie));
  },
};
