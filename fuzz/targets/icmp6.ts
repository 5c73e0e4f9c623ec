import fc from 'fast-check';
import { decodeRouterAdvert, decodeRouterSolicit, encodeRouterAdvert, encodeRouterSolicit } from '../../src/protocol/icmp6/router-advert.js';
import { expectResult, expectRoundTrip, outcome, type FuzzTarget } from '../target.js';

/** An ND option soup: the types the decoder reads (1, 3, 5) at right and wrong lengths, and others. */
const options = fc.array(
  fc.tuple(fc.constantFrom(1, 3, 5, 25, 0), fc.integer({ min: 0, max: 5 }), fc.uint8Array({ maxLength: 40 })).map(([type, units, data]) => {
    const body = Array.from({ length: Math.max(0, units * 8 - 2) }, (_, i) => data[i] ?? 0);
    return [type, units, ...body];
  }),
  { maxLength: 6 },
);

const message = fc
  .tuple(fc.constantFrom(133, 134), fc.uint8Array({ minLength: 12, maxLength: 12 }), options, fc.boolean())
  .map(([type, header, opts, cut]) => {
    const bytes = Uint8Array.from([type, 0, 0, 0, ...(type === 134 ? header : header.subarray(0, 4)), ...opts.flat()]);
    return cut ? bytes.subarray(0, Math.max(0, bytes.length - 3)) : bytes;
  });

/** What `bootlab serve --ra-prefix` reads off the wire (solicitations), and the advertisement codec beside it. */
export const icmp6: FuzzTarget = {
  name: 'icmp6',
  about: 'decodeRouterSolicit and decodeRouterAdvert (RFC 4861 options), round trip through their encoders',
  maxLen: 1280,
  arbitrary: message,
  dictionary: [Uint8Array.of(133, 0, 0, 0), Uint8Array.of(134, 0, 0, 0), Uint8Array.of(3, 4, 64, 0xc0), Uint8Array.of(1, 1), Uint8Array.of(5, 1, 0, 0)],
  check(input) {
    const rs = expectResult(() => decodeRouterSolicit(input), input.length);
    if (rs.ok) expectRoundTrip(rs.value, encodeRouterSolicit, decodeRouterSolicit, 'router solicitation');
    const ra = expectResult(() => decodeRouterAdvert(input), input.length);
    if (ra.ok) expectRoundTrip(ra.value, encodeRouterAdvert, decodeRouterAdvert, 'router advertisement');
    return `${outcome(rs)}|${outcome(ra, ra.ok ? String(Math.min(ra.value.options.length, 9)) : '')}`;
  },
};
