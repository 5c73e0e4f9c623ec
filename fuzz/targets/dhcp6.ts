import fc from 'fast-check';
import { decodeDhcp6, Dhcp6Option, encodeDhcp6 } from '../../src/protocol/dhcp6/message.js';
import { decodeIaNa, decodeOpaqueList, decodeOro, decodeVendorClass, encodeIaNa } from '../../src/protocol/dhcp6/options.js';
import { Violation, ascii, expectResult, expectRoundTrip, outcome, type FuzzTarget } from '../target.js';

const tlv = (code: number, data: Uint8Array): number[] => [code >> 8, code & 0xff, data.length >> 8, data.length & 0xff, ...data];

const messageArbitrary = fc
  .tuple(
    fc.integer({ min: 0, max: 15 }),
    fc.integer({ min: 0, max: 0xffffff }),
    fc.array(fc.tuple(fc.constantFrom(1, 2, 3, 5, 6, 8, 13, 14, 15, 16, 17, 23, 59, 60, 61), fc.uint8Array({ maxLength: 48 })), { maxLength: 12 }),
  )
  .map(([type, xid, opts]) => Uint8Array.from([type, xid >> 16, (xid >> 8) & 0xff, xid & 0xff, ...opts.flatMap(([c, d]) => tlv(c, d))]));

/** The client and server message, its options read by every option reader bootlab has. */
export const dhcp6: FuzzTarget = {
  name: 'dhcp6',
  about: 'decodeDhcp6 and the option readers (IA_NA, ORO, user/vendor class) on its options, round trip through encodeDhcp6',
  maxLen: 1500,
  arbitrary: messageArbitrary,
  dictionary: [Uint8Array.of(0, 1, 0, 10), Uint8Array.of(0, 3, 0, 40), Uint8Array.of(0, 5, 0, 24), Uint8Array.of(0, 6, 0, 2, 0, 59), ...ascii('http://[2001:db8::1]/onie-installer')],
  check(input) {
    const r = expectResult(() => decodeDhcp6(input), input.length);
    if (!r.ok) return outcome(r);
    for (const o of r.value.options) {
      if (o.code === Dhcp6Option.IA_NA) expectResult(() => decodeIaNa(o.data), o.data.length);
      if (o.code === Dhcp6Option.ORO) decodeOro(o.data);
      if (o.code === Dhcp6Option.USER_CLASS) decodeOpaqueList(o.data);
      if (o.code === Dhcp6Option.VENDOR_CLASS) decodeVendorClass(o.data);
    }
    expectRoundTrip(r.value, encodeDhcp6, (b) => decodeDhcp6(b), 'dhcp6');
    return outcome(r, `${r.value.type}:${Math.min(r.value.options.length, 9)}`);
  },
};

const iaNaArbitrary = fc
  .tuple(
    fc.uint8Array({ minLength: 12, maxLength: 12 }),
    fc.array(fc.oneof(fc.uint8Array({ minLength: 24, maxLength: 24 }).map((d) => tlv(5, d)), fc.uint8Array({ maxLength: 30 }).map((d) => tlv(5, d)), fc.uint8Array({ maxLength: 8 }).map((d) => tlv(13, d))), { maxLength: 6 }),
  )
  .map(([head, subs]) => Uint8Array.from([...head, ...subs.flat()]));

/**
 * Where IA_NA's own walk says the first IAADDR that cannot hold its 24 bytes starts: an
 * error about that IAADDR must point at or after it (an absolute offset in the IA_NA data),
 * not at an offset inside the sub-option counted from 0.
 */
function firstShortIaAddr(data: Uint8Array): number | undefined {
  for (let at = 12; at + 4 <= data.length; ) {
    const code = (data[at]! << 8) | data[at + 1]!;
    const len = (data[at + 2]! << 8) | data[at + 3]!;
    if (at + 4 + len > data.length) return undefined;
    if (code === Dhcp6Option.IAADDR && len < 24) return at + 4;
    at += 4 + len;
  }
  return undefined;
}

export const dhcp6IaNa: FuzzTarget = {
  name: 'dhcp6-ia-na',
  about: 'decodeIaNa with its IAADDR sub-options: offsets absolute within the IA_NA data, round trip through encodeIaNa',
  maxLen: 512,
  arbitrary: iaNaArbitrary,
  dictionary: [Uint8Array.of(0, 5, 0, 24), Uint8Array.of(0, 13, 0, 2, 0, 0)],
  check(input) {
    const r = expectResult(() => decodeIaNa(input), input.length);
    if (!r.ok) {
      const short = firstShortIaAddr(input);
      if (r.error.field.startsWith('IAADDR') && short !== undefined && r.error.offset < short) {
        throw new Violation(`IAADDR error at offset ${r.error.offset}, but that IAADDR's data starts at ${short} (offset relative to the sub-option): ${r.error.message}`);
      }
      return outcome(r);
    }
    expectRoundTrip(r.value, encodeIaNa, (b) => decodeIaNa(b), 'dhcp6-ia-na');
    return outcome(r, `${r.value.addresses.length}:${r.value.options.length}`);
  },
};
