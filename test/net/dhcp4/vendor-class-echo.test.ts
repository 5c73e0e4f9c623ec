import { describe, expect, it } from 'vitest';
import { Dhcp4ReplyPolicy } from '../../../src/net/dhcp4/reply-policy.js';
import type { Dhcp4ClassRule, Dhcp4ServerConfig } from '../../../src/net/dhcp4/server-config.js';
import { Dhcp4MessageType, getOption, messageType, readString } from '../../../src/protocol/dhcp4/options.js';
import { decodeDhcp4, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';
import { dhcpDatagrams } from '../../fixtures/dhcp4/pcap-reader.js';

/** fw-dhcp.pcap: dnsmasq (plain dhcp-boot, no pxe-service) answering the real firmware under QEMU. */
const capture = dhcpDatagrams(new URL('../../fixtures/dhcp4/fw-dhcp.pcap', import.meta.url).pathname).flatMap((d) => {
  const p = decodeDhcp4(d.payload);
  return p.ok ? [{ frame: d.frame, packet: p.value }] : [];
});
const frame = (n: number): Dhcp4Packet => capture.find((c) => c.frame === n)!.packet;
const EDK2_PXE_DISCOVER = 5;
const DNSMASQ_OFFER_TO_EDK2_PXE = 6;
const IPXE_EFI_DISCOVER = 9;
const EDK2_HTTP_DISCOVER = 13;

const config = (classes: Dhcp4ClassRule[]): Dhcp4ServerConfig => ({
  bind: { address: '0.0.0.0', port: 67 },
  serverId: '10.99.0.1',
  replyTo: 'broadcast',
  pool: { start: '10.99.0.150', end: '10.99.0.199', subnetMask: '255.255.255.0', leaseSeconds: 3600 },
  classes,
});

/** The class rule of issue 13's finding 3: the file in the BOOTP header, no PXE vendor options. */
const uefiPxe: Dhcp4ClassRule = { name: 'uefi-pxe', match: { vendorClassPrefix: 'PXEClient', arch: [7, 9] }, options: { nextServer: '10.99.0.1', bootFile: 'snponly.efi' } };

function offer(classes: Dhcp4ClassRule[], discover: Dhcp4Packet): Dhcp4Packet {
  const d = new Dhcp4ReplyPolicy(config(classes)).answer(discover, { address: '0.0.0.0', port: 68 }, 1_800_000_000_000);
  const reply = d.replies[0]!.packet;
  expect(messageType(reply)).toBe(Dhcp4MessageType.OFFER);
  return reply;
}

describe('13: option 60 in replies to PXE and HTTP Boot firmware', () => {
  it('sends EDK2 UEFI PXE no option 60 (nor 97) when the reply has no option 43, as dnsmasq does with dhcp-boot', () => {
    const reply = offer([uefiPxe], frame(EDK2_PXE_DISCOVER));
    expect([reply.siaddr, reply.file]).toEqual(['10.99.0.1', 'snponly.efi']);
    expect(getOption(reply, 43)).toBeUndefined();
    expect(getOption(reply, 60)).toBeUndefined();
    expect(getOption(reply, 97)).toBeUndefined();
    // The golden reference: dnsmasq's offer to the same DISCOVER carries neither.
    const dnsmasq = frame(DNSMASQ_OFFER_TO_EDK2_PXE);
    expect([getOption(dnsmasq, 60), getOption(dnsmasq, 43)]).toEqual([undefined, undefined]);
  });

  it('sends 60 = PXEClient and echoes 97 when the reply carries PXE vendor options (43)', () => {
    const discover = frame(EDK2_PXE_DISCOVER);
    const reply = offer([{ ...uefiPxe, options: { ...uefiPxe.options, pxeDiscoveryControl: 8 } }], discover);
    expect(Buffer.from(getOption(reply, 43)!).toString('hex')).toBe('060108ff');
    expect(readString(getOption(reply, 60)!)).toBe('PXEClient');
    expect(getOption(reply, 97)).toEqual(getOption(discover, 97));
  });

  it('sends iPXE no 60 when there is no 43 (175.176 is how to skip its ProxyDHCP wait)', () => {
    const reply = offer([{ name: 'ipxe', match: { ipxe: true }, options: { bootFileName: 'http://10.99.0.1/boot.ipxe', ipxeNoProxyWait: true } }], frame(IPXE_EFI_DISCOVER));
    expect(getOption(reply, 60)).toBeUndefined();
    expect(Buffer.from(getOption(reply, 175)!).toString('hex')).toBe('b00101');
  });

  it('still echoes HTTPClient to EDK2 HTTP Boot, which drops offers without it', () => {
    const reply = offer([{ name: 'http', match: { vendorClassPrefix: 'HTTPClient' }, options: { bootFileName: 'http://10.99.0.1/snponly.efi' } }], frame(EDK2_HTTP_DISCOVER));
    expect(readString(getOption(reply, 60)!)).toBe('HTTPClient');
    expect(getOption(reply, 43)).toBeUndefined();
  });

  it('sends no 60 to a client that sent none', () => {
    const discover = frame(EDK2_PXE_DISCOVER);
    const plain = { ...discover, options: discover.options.filter((o) => o.code !== 60) };
    expect(getOption(offer([{ ...uefiPxe, match: { arch: [7] }, options: { ...uefiPxe.options, pxeDiscoveryControl: 8 } }], plain), 60)).toBeUndefined();
  });
});
