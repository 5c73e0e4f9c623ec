import { describe, expect, it } from 'vitest';
import { Dhcp6MessageType, Dhcp6Option, decodeDhcp6, encodeDhcp6, getOption6, optionDataOffset6 } from '../../../src/protocol/dhcp6/message.js';
import { decodeIaNa, decodeVendorClass, encodeIaNa, encodeVendorClass, formatIpv6, parseIpv6 } from '../../../src/protocol/dhcp6/options.js';

describe('DHCPv6 messages', () => {
  // A SOLICIT written out by hand from RFC 8415's layout: type, 24-bit xid, then TLVs.
  const solicit = Buffer.from(
    '01' + 'abcdef' + // SOLICIT, transaction id
      '0001' + '000a' + '00030001020000aabb01' + // client id: DUID-LL 02:00:00:aa:bb:01
      '0006' + '0004' + '003b0017' + // ORO: 59, 23
      '0008' + '0002' + '0000' + // elapsed time
      '0003' + '000c' + '000000070000000000000000', // IA_NA iaid 7
    'hex',
  );

  it('decodes a hand-built SOLICIT and re-encodes it byte for byte', () => {
    const d = decodeDhcp6(solicit);
    if (!d.ok) throw d.error;
    expect(d.value.type).toBe(Dhcp6MessageType.SOLICIT);
    expect(d.value.transactionId).toBe(0xabcdef);
    expect(d.value.options.map((o) => o.code)).toEqual([Dhcp6Option.CLIENTID, Dhcp6Option.ORO, Dhcp6Option.ELAPSED_TIME, Dhcp6Option.IA_NA]);
    expect(encodeDhcp6(d.value)).toEqual(solicit);
  });

  it('names the field and offset of a truncated option, and refuses relay messages', () => {
    const cut = decodeDhcp6(solicit.subarray(0, 10));
    expect(!cut.ok && cut.error).toMatchObject({ code: 'BL_DECODE_TRUNCATED', field: 'option 1', offset: 8 });
    const relay = decodeDhcp6(Buffer.from('0c00', 'hex'));
    expect(!relay.ok && relay.error).toMatchObject({ code: 'BL_DECODE_UNSUPPORTED', field: 'msg-type', offset: 0 });
  });

  it('round-trips IA_NA with an address, and vendor class lists', () => {
    const ia = { iaid: 7, t1: 1800, t2: 2880, addresses: [{ address: '2001:db8::100', preferred: 3600, valid: 7200 }], options: [] };
    const back = decodeIaNa(encodeIaNa(ia));
    expect(back.ok && back.value).toEqual(ia);
    expect(decodeVendorClass(encodeVendorClass(42623, ['onie_vendor:x86_64-kvm_x86_64-r0']))).toEqual({ enterprise: 42623, items: ['onie_vendor:x86_64-kvm_x86_64-r0'] });
  });

  it('reads and writes IPv6 text the RFC 5952 way', () => {
    for (const [text, canonical] of [['2001:DB8:0:0:0:0:0:1', '2001:db8::1'], ['::1', '::1'], ['fe80::1:0:0:1', 'fe80::1:0:0:1'], ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1']]) {
      expect(formatIpv6(parseIpv6(text!)!)).toBe(canonical);
    }
    for (const bad of ['1:2:3', '::1::2', '12345::', 'fe80::1%eth0', '1:2:3:4:5:6:7:8:9']) expect(parseIpv6(bad), bad).toBeUndefined();
  });
});

describe('12: DHCPv6 decode errors name absolute offsets and the encoder\'s message types', () => {
  // SOLICIT; client id at 4 (data 8..17); IA_NA at 18, its data at 22: iaid, T1, T2, then
  // IAADDR at 34 whose data starts at 38: address 38..53, preferred 54..57, valid 58..61.
  const withIaAddr = (iaaddrLen: number, iaaddrBytes: number): Buffer => {
    const iaaddr = '0005' + iaaddrLen.toString(16).padStart(4, '0') + '20010db8000000000000000000000100' + '00000e10' + '00001c20';
    const ia = '00000007' + '00000708' + '00000b40' + iaaddr.slice(0, (4 + iaaddrBytes) * 2);
    return Buffer.from('01abcdef' + '0001000a00030001020000aabb01' + '0003' + (ia.length / 2).toString(16).padStart(4, '0') + ia, 'hex');
  };
  const decodeIa = (wire: Buffer) => {
    const m = decodeDhcp6(wire);
    if (!m.ok) throw m.error;
    // IA_NA's data is at 22 in every message built here (the test above checks optionDataOffset6 says so).
    return decodeIaNa(getOption6(m.value, Dhcp6Option.IA_NA)!, 22);
  };

  it('locates an option\'s data in the message', () => {
    const m = decodeDhcp6(withIaAddr(24, 24));
    expect(m.ok && optionDataOffset6(m.value, Dhcp6Option.IA_NA)).toBe(22);
    expect(m.ok && optionDataOffset6(m.value, Dhcp6Option.CLIENTID)).toBe(8);
    expect(m.ok && optionDataOffset6(m.value, Dhcp6Option.ORO)).toBeUndefined();
  });

  it('reports a short IAADDR at its absolute offset in the message', () => {
    const short = decodeIa(withIaAddr(20, 20));
    expect(!short.ok && short.error).toMatchObject({ code: 'BL_DECODE_TRUNCATED', field: 'IAADDR.valid', offset: 58 });
    expect(!short.ok && short.error.message).toMatch(/at offset 58/);
    const overrun = decodeIa(withIaAddr(30, 24));
    expect(!overrun.ok && overrun.error).toMatchObject({ code: 'BL_DECODE_TRUNCATED', field: 'IAADDR', offset: 38 });
    const whole = decodeIa(withIaAddr(24, 24));
    expect(whole.ok && whole.value.addresses).toEqual([{ address: '2001:db8::100', preferred: 3600, valid: 7200 }]);
  });

  it('reports a short IA_NA header at its absolute offset', () => {
    const wire = Buffer.from('01abcdef' + '0001000a00030001020000aabb01' + '0003' + '0006' + '000000070000', 'hex');
    const d = decodeIa(wire);
    expect(!d.ok && d.error).toMatchObject({ code: 'BL_DECODE_TRUNCATED', field: 'IA_NA.T1', offset: 26 });
  });

  it('decodes exactly the message types the encoder accepts', () => {
    for (let type = 0; type <= 255; type++) {
      const d = decodeDhcp6(Uint8Array.of(type, 0, 0, 1));
      let encodes = true;
      try {
        encodeDhcp6({ type, transactionId: 1, options: [] });
      } catch {
        encodes = false;
      }
      expect(d.ok, `type ${type}`).toBe(encodes);
      if (!d.ok) expect(d.error).toMatchObject({ code: 'BL_DECODE_UNSUPPORTED', field: 'msg-type', offset: 0 });
    }
    expect(decodeDhcp6(Uint8Array.of(14, 0, 0, 1)).ok).toBe(false);
  });
});
