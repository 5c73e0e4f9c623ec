import fc from 'fast-check';
import { readDomainList, readIp, readIpList, readString, readU16, readU32, readU8List, readUserClasses } from '../../src/protocol/dhcp4/options.js';
import { decodeDhcp4, encodeDhcp4, type Dhcp4Packet } from '../../src/protocol/dhcp4/packet.js';
import { decodeVivso, encodeVivso } from '../../src/protocol/dhcp4/vivso.js';
import { ascii, expectResult, expectRoundTrip, outcome, type FuzzTarget } from '../target.js';

const COOKIE = Uint8Array.of(99, 130, 83, 99);

/** A BOOTP header then a soup of TLVs: codes the decoder treats specially come up often. */
const packetArbitrary = fc
  .tuple(
    fc.uint8Array({ minLength: 236, maxLength: 236 }),
    fc.array(
      fc.tuple(fc.constantFrom(0, 52, 53, 55, 60, 61, 77, 82, 93, 94, 97, 119, 124, 125, 175, 255, 43, 66, 67), fc.uint8Array({ maxLength: 40 }), fc.boolean()),
      { maxLength: 20 },
    ),
  )
  .map(([header, opts]) => {
    const h = Uint8Array.from(header);
    h[0] = 1 + (h[0]! & 1);
    const soup = opts.flatMap(([code, data, honest]) => (code === 0 || code === 255 ? [code] : [code, honest ? data.length : data.length + 1, ...data]));
    return Uint8Array.from([...h, ...COOKIE, ...soup, 255]);
  });

/** Every typed option reader on every option: a peer's option must never throw. */
function readAllOptions(p: Dhcp4Packet): void {
  for (const o of p.options) {
    readIp(o.data);
    readIpList(o.data);
    readString(o.data);
    readU8List(o.data);
    readU16(o.data);
    readU32(o.data);
    readUserClasses(o.data);
    readDomainList(o.data);
  }
}

export const dhcp4: FuzzTarget = {
  name: 'dhcp4',
  about: 'decodeDhcp4 (BOOTP header, options, overload, RFC 3396 concatenation), every option reader, round trip through encodeDhcp4',
  maxLen: 1500,
  arbitrary: packetArbitrary,
  dictionary: [COOKIE, ...ascii('PXEClient:Arch:00007:UNDI:003000', 'onie_vendor:', 'iPXE'), Uint8Array.of(52, 1, 3), Uint8Array.of(53, 1, 1), Uint8Array.of(255)],
  check(input) {
    const r = expectResult(() => decodeDhcp4(input), input.length);
    if (!r.ok) return outcome(r);
    readAllOptions(r.value);
    // The decoder lists option 52 (overload) as received; the encoder never overloads and
    // leaves it out on purpose, so the round trip compares the other options.
    const withoutOverload = (p: Dhcp4Packet): Dhcp4Packet => ({ ...p, options: p.options.filter((o) => o.code !== 52) });
    expectRoundTrip(withoutOverload(r.value), encodeDhcp4, (b) => {
      const d = decodeDhcp4(b);
      return d.ok ? { ok: true as const, value: withoutOverload(d.value) } : d;
    }, 'dhcp4');
    return outcome(r, `${r.value.op}:${r.value.options.length > 8 ? 'many' : r.value.options.length}:${r.value.sname ? 's' : ''}${r.value.file ? 'f' : ''}`);
  },
};

/** Option 125 (RFC 3925) as it sits inside a message: offsets count from the option's data. */
export const dhcp4Vivso: FuzzTarget = {
  name: 'dhcp4-vivso',
  about: 'decodeVivso at a non-zero base offset (offsets must land inside [base, base + length]), round trip through encodeVivso',
  maxLen: 1024,
  dictionary: [Uint8Array.of(0, 0, 0xa6, 0x7f), ...ascii('http://10.0.0.1/onie-installer')],
  check(input) {
    const base = 240 + (input.length & 0x3f);
    const r = expectResult(() => decodeVivso(input, base), input.length, base);
    if (!r.ok) return outcome(r);
    expectRoundTrip(r.value, encodeVivso, (b) => decodeVivso(b), 'dhcp4-vivso');
    return outcome(r, String(r.value.length));
  },
};
