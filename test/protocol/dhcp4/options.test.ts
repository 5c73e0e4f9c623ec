import { describe, expect, it } from 'vitest';
import { EncodeError } from '../../../src/errors.js';
import {
  DHCP4_OPTIONS,
  Dhcp4MessageType,
  getOption,
  ipListOption,
  ipOption,
  messageType,
  messageTypeName,
  messageTypeOption,
  optionName,
  readDomainList,
  readIp,
  readIpList,
  readString,
  readU16,
  readU32,
  readU8List,
  readUserClasses,
  stringOption,
  u16Option,
  u32Option,
  u8ListOption,
  userClassOption,
} from '../../../src/protocol/dhcp4/options.js';

describe('the DHCPv4 options registry', () => {
  it('names every option the emulator reads or writes', () => {
    const codes = [1, 3, 6, 7, 12, 15, 28, 42, 43, 50, 51, 53, 54, 55, 57, 60, 61, 66, 67, 72, 77, 82, 93, 94, 97, 114, 119, 125, 150, 175];
    for (const code of codes) expect(DHCP4_OPTIONS.has(code), `option ${code}`).toBe(true);
    expect(optionName(114)).toBe('default-url');
    expect(optionName(224)).toBe('option-224');
  });
});

describe('option readers', () => {
  it('reads addresses, lists, numbers and text', () => {
    expect(readIp(Uint8Array.of(10, 0, 0, 1))).toBe('10.0.0.1');
    expect(readIp(Uint8Array.of(10, 0, 0))).toBeUndefined();
    expect(readIpList(Uint8Array.of(10, 0, 0, 1, 10, 0, 0, 2))).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(readIpList(Uint8Array.of(10, 0, 0, 1, 9))).toBeUndefined();
    expect(readU8List(Uint8Array.of(1, 3, 6))).toEqual([1, 3, 6]);
    expect(readU16(Uint8Array.of(0x05, 0xc0))).toBe(1472);
    expect(readU32(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toBe(0xffff_ffff);
    expect(readU32(Uint8Array.of(1, 2))).toBeUndefined();
    expect(readString(new Uint8Array(Buffer.from('http://x/\0junk')))).toBe('http://x/');
  });

  it('reads RFC 3004 user classes and the bare-string form iPXE sends', () => {
    expect(readUserClasses(userClassOption(['onie_dhcp_user_class']).data)).toEqual(['onie_dhcp_user_class']);
    expect(readUserClasses(userClassOption(['a', 'bc']).data)).toEqual(['a', 'bc']);
    expect(readUserClasses(new Uint8Array(Buffer.from('iPXE')))).toEqual(['iPXE']);
  });

  it('reads an RFC 3397 domain search list with compression pointers', () => {
    // RFC 3397 §3's example: eng.apple.com. and marketing.apple.com. (pointer to offset 4)
    const data = Uint8Array.of(3, ...Buffer.from('eng'), 5, ...Buffer.from('apple'), 3, ...Buffer.from('com'), 0, 9, ...Buffer.from('marketing'), 0xc0, 4);
    expect(readDomainList(data)).toEqual(['eng.apple.com', 'marketing.apple.com']);
  });

  it('gives up on a domain list whose pointers loop', () => {
    expect(readDomainList(Uint8Array.of(0xc0, 0))).toBeUndefined();
    expect(readDomainList(Uint8Array.of(5, 0x61))).toBeUndefined();
  });

  it('finds the message type, and nothing for BOOTP or an out-of-range value', () => {
    expect(messageType({ options: [messageTypeOption(Dhcp4MessageType.INFORM)] })).toBe(8);
    expect(messageType({ options: [] })).toBeUndefined();
    expect(messageType({ options: [{ code: 53, data: Uint8Array.of(9) }] })).toBeUndefined();
    expect(messageTypeName(Dhcp4MessageType.NAK)).toBe('NAK');
    expect(getOption({ options: [ipOption(54, '10.0.0.1')] }, 54)).toEqual(Uint8Array.of(10, 0, 0, 1));
  });
});

describe('option builders', () => {
  it('encode values the readers read back', () => {
    expect(readIpList(ipListOption(6, ['1.1.1.1', '8.8.8.8']).data)).toEqual(['1.1.1.1', '8.8.8.8']);
    expect(readString(stringOption(114, 'http://10.0.0.1/onie-installer').data)).toBe('http://10.0.0.1/onie-installer');
    expect(readU16(u16Option(57, 576).data)).toBe(576);
    expect(readU32(u32Option(51, 3600).data)).toBe(3600);
    expect(Array.from(u8ListOption(55, [1, 3, 6]).data)).toEqual([1, 3, 6]);
    expect(Array.from(userClassOption(['ab']).data)).toEqual([2, 0x61, 0x62]);
  });

  it('refuse values that cannot be put on the wire', () => {
    expect(() => ipOption(1, '255.255.255')).toThrow(EncodeError);
    expect(() => ipListOption(3, [])).toThrow(EncodeError);
    expect(() => u16Option(57, 70000)).toThrow(EncodeError);
    expect(() => u8ListOption(55, [256])).toThrow(EncodeError);
    expect(() => userClassOption([''])).toThrow(EncodeError);
  });
});
