import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../../../src/errors.js';
import { capabilityMap, capabilityNames } from '../../../src/protocol/lldp/capabilities.js';
import { idText } from '../../../src/protocol/lldp/ids.js';
import { decodeLldpdu, encodeLldpdu, LldpOrderError, systemNameOf, type Lldpdu } from '../../../src/protocol/lldp/lldpdu.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');
/** Decoded values hold plain Uint8Arrays. */
const u8 = (s: string): Uint8Array => Uint8Array.from(hex(s));

/** IEEE 802.1AB-2016 §8.5 written out TLV by TLV: 7-bit type, 9-bit length, value. */
const wire = hex(`
  0207 04 020000aabbcc
  0405 05 65746830
  0602 0078
  0805 6c65616631
  0a05 6c65616631
  0e04 0014 0010
  100c 05 01 0a000001 02 00000002 00
  fe09 00120f 01 036c030010
  fc02 abcd
  0000
`);

const du: Lldpdu = {
  chassisId: { kind: 'mac', mac: '02:00:00:aa:bb:cc' },
  portId: { kind: 'text', subtype: 'interface-name', text: 'eth0' },
  ttlSeconds: 120,
  tlvs: [
    { kind: 'port-description', text: 'leaf1' },
    { kind: 'system-name', text: 'leaf1' },
    { kind: 'system-capabilities', supported: capabilityMap(['bridge', 'router']), enabled: capabilityMap(['router']) },
    { kind: 'management-address', address: { family: 'ipv4', address: '10.0.0.1' }, interfaceNumbering: 'if-index', interfaceNumber: 2, oid: new Uint8Array() },
    { kind: 'org-specific', oui: '00:12:0f', subtype: 1, info: u8('036c030010') },
    { kind: 'unknown', type: 126, raw: u8('abcd') },
  ],
};

function decodeError(buf: Uint8Array): DecodeError {
  const r = decodeLldpdu(buf);
  if (r.ok) throw new Error('decoded');
  return r.error;
}

describe('LLDPDU codec', () => {
  it('encodes the 802.1AB layout: Chassis ID, Port ID, TTL first, End last', () => {
    expect(encodeLldpdu(du).toString('hex')).toBe(wire.toString('hex'));
  });

  it('decodes what it encodes, optional TLVs in wire order', () => {
    const r = decodeLldpdu(wire);
    expect(r.ok && r.value).toEqual(du);
    expect(r.ok && systemNameOf(r.value)).toBe('leaf1');
  });

  it('names the capability bits, bit 0 first', () => {
    expect(capabilityNames(0x0014)).toEqual(['bridge', 'router']);
    expect(capabilityNames(0x8001)).toEqual(['other']);
  });

  it('reads network-address ids and IPv6 management addresses', () => {
    const b = hex('0206 05 01 c0000201  0402 07 78  0602 0000  1018 11 02 20010db8000000000000000000000001 01 00000000 00  0000');
    const r = decodeLldpdu(b);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.chassisId).toEqual({ kind: 'network-address', address: { family: 'ipv4', address: '192.0.2.1' } });
    expect(r.value.portId).toEqual({ kind: 'text', subtype: 'local', text: 'x' });
    expect(r.value.tlvs[0]).toMatchObject({ kind: 'management-address', address: { family: 'ipv6', address: '2001:db8::1' }, interfaceNumbering: 'unknown' });
    expect(encodeLldpdu(r.value).equals(b)).toBe(true);
  });

  it('keeps what it cannot read as its subtype says as bytes, and re-encodes it byte-exact', () => {
    // A 5-byte "MAC" chassis id, an agent circuit id, a system name that is not UTF-8, a reserved chassis subtype in a second PDU.
    const b = hex('0206 04 0102030405  0404 06 000102  0602 0010  0a02 c328  0000');
    const r = decodeLldpdu(b);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.chassisId).toEqual({ kind: 'bytes', subtype: 4, raw: u8('0102030405') });
    expect(r.value.portId).toEqual({ kind: 'bytes', subtype: 6, raw: u8('000102') });
    expect(r.value.tlvs).toEqual([{ kind: 'unknown', type: 5, raw: u8('c328') }]);
    expect(idText(r.value.portId)).toBe('000102');
    expect(encodeLldpdu(r.value).equals(b)).toBe(true);
    const reserved = hex('0203 09 6869  0402 07 78  0602 0000  0000');
    const rr = decodeLldpdu(reserved);
    expect(rr.ok && rr.value.chassisId).toEqual({ kind: 'bytes', subtype: 9, raw: u8('6869') });
  });

  it('ignores the frame padding after End', () => {
    const r = decodeLldpdu(Buffer.concat([wire, Buffer.alloc(10)]));
    expect(r.ok && r.value).toEqual(du);
  });

  it('rejects an LLDPDU that does not start with Chassis ID, Port ID, TTL, naming the TLV and its offset', () => {
    const portFirst = hex('0405 05 65746830  0207 04 020000aabbcc  0602 0078  0000');
    const e = decodeError(portFirst);
    expect(e).toBeInstanceOf(LldpOrderError);
    expect(e).toMatchObject({ code: 'BL_DECODE_MALFORMED', offset: 0, field: 'tlv.type' });
    expect(e.message).toContain('expected Chassis ID as TLV 1, got Port ID');
    const noTtl = hex('0207 04 020000aabbcc  0405 05 65746830  0a01 61  0000');
    expect(decodeError(noTtl)).toMatchObject({ name: 'LldpOrderError', offset: 16 });
  });

  it('rejects a repeated mandatory TLV and a missing End', () => {
    const twice = Buffer.concat([wire.subarray(0, 20), hex('0602 0078 0000')]);
    expect(decodeError(twice)).toMatchObject({ name: 'LldpOrderError', offset: 20 });
    expect(decodeError(twice).message).toContain('a second TTL TLV');
    const noEnd = wire.subarray(0, wire.length - 2);
    expect(decodeError(noEnd)).toMatchObject({ name: 'LldpOrderError', offset: noEnd.length, field: 'End' });
  });

  it('reports a TLV longer than the bytes left as truncated at its value', () => {
    expect(decodeError(hex('0207 04 020000aabbcc  0405 05 6574'))).toMatchObject({ code: 'BL_DECODE_TRUNCATED', offset: 11, field: 'Port ID value' });
  });

  it('rejects bad lengths inside TLVs at the offset of the TLV or field', () => {
    expect(decodeError(hex('0201 04  0000'))).toMatchObject({ code: 'BL_DECODE_MALFORMED', offset: 0, field: 'chassisId.length' });
    expect(decodeError(hex('0202 04 00  0402 07 78  0603 000000 0000'))).toMatchObject({ offset: 8, field: 'ttl.length' });
    expect(decodeError(hex('0202 04 00  0402 07 78  0602 0000  0e03 000000  0000'))).toMatchObject({ offset: 12, field: 'systemCapabilities.length' });
    // Management address: string length 5 but only an IPv4 address and an extra byte after the OID.
    const mgmt = hex('0202 04 00  0402 07 78  0602 0000  100d 05 01 0a000001 02 00000002 00 ff  0000');
    expect(decodeError(mgmt)).toMatchObject({ offset: 12, field: 'managementAddress.length' });
    const oid = hex('0202 04 00  0402 07 78  0602 0000  100c 05 01 0a000001 02 00000002 81  0000');
    expect(decodeError(oid)).toMatchObject({ offset: 25, field: 'managementAddress.oidLength' });
    expect(decodeError(hex('0202 04 00  0402 07 78  0602 0000  0001 00'))).toMatchObject({ offset: 12, field: 'End.length' });
  });

  it('stops at the TLV limit with reason limit', () => {
    const many = Buffer.concat([hex('0202 04 00  0402 07 78  0602 0000'), ...Array.from({ length: 20 }, () => hex('0800')), hex('0000')]);
    expect(decodeLldpdu(many, { maxTlvs: 10 })).toMatchObject({ ok: false, error: { code: 'BL_DECODE_LIMIT' } });
    expect(decodeLldpdu(many).ok).toBe(true);
  });

  it('refuses to encode values 802.1AB cannot carry', () => {
    const base = { chassisId: du.chassisId, portId: du.portId, ttlSeconds: 120 };
    const enc = (d: Partial<Lldpdu>): unknown => encodeLldpdu({ ...base, tlvs: [], ...d });
    expect(() => enc({ tlvs: [{ kind: 'system-name', text: 'x'.repeat(256) }] })).toThrow(/systemName: 256 bytes, 802.1AB allows at most 255/);
    expect(() => enc({ tlvs: [{ kind: 'org-specific', oui: '00:12:0f', subtype: 1, info: new Uint8Array(508) }] })).toThrow(/orgSpecific: value of 512 bytes, must be 0..511/);
    expect(() => enc({ chassisId: { kind: 'text', subtype: 'local', text: '' } })).toThrow(/chassisId: value of 1 bytes, must be 2..256/);
    expect(() => enc({ portId: { kind: 'text', subtype: 'chassis-component', text: 'x' } })).toThrow(EncodeError);
    expect(() => enc({ ttlSeconds: 70000 })).toThrow(/ttl/);
    expect(() => enc({ chassisId: { kind: 'mac', mac: 'nope' } })).toThrow(/not a MAC address/);
    expect(() => enc({ tlvs: [{ kind: 'unknown', type: 2, raw: new Uint8Array() }] })).toThrow(/not an optional TLV type/);
    expect(() => enc({ tlvs: [{ kind: 'management-address', address: { family: 'ipv4', address: '10.0.0' }, interfaceNumbering: 'if-index', interfaceNumber: 1, oid: new Uint8Array() }] })).toThrow(/not an ipv4 address/);
  });
});
