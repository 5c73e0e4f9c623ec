import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ONIE_DISCOVERY_REQUEST_LIST, ONIE_USER_CLASS, onieDhcpClientOptions } from '../../../src/device/onie/dhcp-client-options.js';
import { getOption, readUserClasses } from '../../../src/protocol/dhcp4/options.js';
import { decodeDhcp4 } from '../../../src/protocol/dhcp4/packet.js';
import { dhcpDatagrams } from '../../fixtures/dhcp4/pcap-reader.js';
import { accton, kvmIdentity } from './fixtures.js';

const hex = (b: Uint8Array | undefined): string => Buffer.from(b ?? []).toString('hex');

/** ONIE's DISCOVER in clients.pcap (the onie_vendor entry of dhcp-discover-options.txt). */
function capturedOnieDiscover(): { options: Array<{ code: number; data: Uint8Array }> } {
  const path = fileURLToPath(new URL('../../fixtures/dhcp4/clients.pcap', import.meta.url));
  const frame = dhcpDatagrams(path).find((d) => d.frame === 6)!;
  const r = decodeDhcp4(frame.payload);
  if (!r.ok) throw r.error;
  return r.value;
}

describe('onieDhcpClientOptions', () => {
  const options = { options: onieDhcpClientOptions(kvmIdentity) };

  it('sends the same vendor class (60) and VIVSO (125) bytes as ONIE on kvm_x86_64', () => {
    const captured = capturedOnieDiscover();
    expect(hex(getOption(options, 60))).toBe(hex(getOption(captured, 60)));
    expect(hex(getOption(options, 125))).toBe(hex(getOption(captured, 125)));
  });

  it('sends the user class (77) as one RFC 3004 class holding the capture’s literal string', () => {
    const captured = capturedOnieDiscover();
    // onie.md §1.5: udhcpc is given the length-prefixed hex, so the wire has 0x14 first;
    // the capture holds the bare 20-byte string.
    expect(hex(getOption(options, 77))).toBe(`14${hex(getOption(captured, 77))}`);
    expect(readUserClasses(getOption(options, 77)!)).toEqual([ONIE_USER_CLASS]);
  });

  it('identifies the client (61) by 0x00 and the ASCII serial number', () => {
    expect(hex(getOption(options, 61))).toBe(`00${Buffer.from('VM-1234567890').toString('hex')}`);
  });

  it('asks for the 15 options of sd_dhcp4, without 150', () => {
    expect(Array.from(getOption(options, 55)!)).toEqual([1, 3, 6, 7, 12, 15, 28, 42, 43, 54, 66, 67, 72, 114, 125]);
    expect(ONIE_DISCOVERY_REQUEST_LIST).toHaveLength(15);
    expect(ONIE_DISCOVERY_REQUEST_LIST).not.toContain(150);
  });

  it('writes the options in the order udhcpc does', () => {
    expect(options.options.map((o) => o.code)).toEqual([57, 55, 60, 61, 77, 125]);
  });

  it('follows the identity: platform, machine, arch and revision of another switch', () => {
    const other = { options: onieDhcpClientOptions(accton) };
    expect(Buffer.from(getOption(other, 60)!).toString()).toBe('onie_vendor:x86_64-accton_as7326_56x-r1');
    expect(hex(getOption(other, 125))).toBe(
      `0000a67f${(2 + 17 + 2 + 6 + 2 + 1).toString(16)}0311${Buffer.from('accton_as7326_56x').toString('hex')}0406${Buffer.from('x86_64').toString('hex')}050131`,
    );
  });
});
