import fc from 'fast-check';
import { decodeLldpFrame, encodeLldpFrame } from '../../src/protocol/lldp/frame.js';
import { decodeLldpdu, encodeLldpdu } from '../../src/protocol/lldp/lldpdu.js';
import { Violation, expectResult, expectRoundTrip, outcome, type FuzzTarget } from '../target.js';

/** One TLV: a type the decoder reads (or a reserved one) and a value that may or may not fit it. */
const tlv = fc
  .tuple(fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 127, 9, 126), fc.uint8Array({ maxLength: 40 }), fc.boolean())
  .map(([type, value, lie]) => {
    const length = lie ? (value.length + 3) & 0x1ff : value.length;
    return [(type << 1) | (length >> 8), length & 0xff, ...value];
  });

/** Mostly the mandatory three first (so the optional TLVs get reached), then a TLV soup, End. */
const lldpdu = fc
  .tuple(fc.constantFrom(4, 5, 6, 7), fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.constantFrom(3, 4, 5, 6), fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.array(tlv, { maxLength: 8 }), fc.boolean())
  .map(([cs, cid, ps, pid, rest, end]) =>
    Uint8Array.from([
      0x02, cid.length + 1, cs, ...cid,
      0x04, pid.length + 1, ps, ...pid,
      0x06, 0x02, 0x00, 0x78,
      ...rest.flat(),
      ...(end ? [0, 0] : []),
    ]),
  );

const frame = fc
  .tuple(lldpdu, fc.boolean(), fc.constantFrom(0x0e, 0x03, 0x00, 0x01))
  .map(([du, tagged, last]) => Uint8Array.from([0x01, 0x80, 0xc2, 0, 0, last, 2, 0, 0, 0, 0, 1, ...(tagged ? [0x81, 0x00, 0x20, 0x64] : []), 0x88, 0xcc, ...du]));

/** What `bootlab`'s cabling check reads off a port: a whole frame, and the LLDPDU inside it. */
export const lldp: FuzzTarget = {
  name: 'lldp',
  about: 'decodeLldpFrame (802.1Q, group addresses) and decodeLldpdu (802.1AB TLVs), byte-exact re-encode and round trip',
  maxLen: 1518,
  arbitrary: fc.oneof(lldpdu, frame),
  dictionary: [Uint8Array.of(0x01, 0x80, 0xc2, 0, 0, 0x0e), Uint8Array.of(0x88, 0xcc), Uint8Array.of(0x81, 0x00), Uint8Array.of(0x02, 0x07, 0x04), Uint8Array.of(0x06, 0x02), Uint8Array.of(0, 0), Uint8Array.of(0x10, 0x0c, 0x05, 0x01), Uint8Array.of(0xfe, 0x09, 0x00, 0x12, 0x0f)],
  check(input) {
    const du = expectResult(() => decodeLldpdu(input), input.length);
    if (du.ok) {
      expectRoundTrip(du.value, encodeLldpdu, decodeLldpdu, 'LLDPDU');
      // Everything the decoder keeps is enough to write the same bytes back, up to End.
      const again = encodeLldpdu(du.value);
      if (!Buffer.from(input.subarray(0, again.length)).equals(again)) throw new Violation(`LLDPDU re-encodes to different bytes: ${again.toString('hex').slice(0, 200)}`);
    }
    const f = expectResult(() => decodeLldpFrame(input), input.length);
    if (f.ok) expectRoundTrip(f.value, encodeLldpFrame, decodeLldpFrame, 'LLDP frame');
    return `${outcome(du, du.ok ? String(Math.min(du.value.tlvs.length, 9)) : '')}|${outcome(f)}`;
  },
};
