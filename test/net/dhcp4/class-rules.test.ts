import { describe, expect, it } from 'vitest';
import { Dhcp4ReplyPolicy } from '../../../src/net/dhcp4/reply-policy.js';
import type { Dhcp4ServerConfig } from '../../../src/net/dhcp4/server-config.js';
import { Dhcp4MessageType, getOption, messageType, readString } from '../../../src/protocol/dhcp4/options.js';
import { decodeDhcp4, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';
import { dhcpDatagrams } from '../../fixtures/dhcp4/pcap-reader.js';

/** Every real client DISCOVER in the captures, by its vendor class (first one of each). */
function capturedDiscovers(): Map<string, Dhcp4Packet> {
  const out = new Map<string, Dhcp4Packet>();
  for (const file of ['clients.pcap', 'fw-dhcp.pcap', 'linux-bios-dhcp.pcap']) {
    for (const d of dhcpDatagrams(new URL(`../../fixtures/dhcp4/${file}`, import.meta.url).pathname)) {
      const p = decodeDhcp4(d.payload);
      if (!p.ok || messageType(p.value) !== Dhcp4MessageType.DISCOVER) continue;
      const vc = getOption(p.value, 60);
      const key = vc ? readString(vc)! : '(none)';
      if (!out.has(key)) out.set(key, p.value);
    }
  }
  return out;
}

/** A dnsmasq-style lab: BIOS PXE → undionly.kpxe, UEFI PXE → ipxe.efi, iPXE → a script, HTTP Boot → a URL, ONIE → 114. */
const config: Dhcp4ServerConfig = {
  bind: { address: '0.0.0.0', port: 67 },
  serverId: '10.0.0.1',
  replyTo: 'broadcast',
  pool: { start: '10.0.0.100', end: '10.0.0.200', subnetMask: '255.255.255.0', leaseSeconds: 3600 },
  options: { router: ['10.0.0.1'] },
  classes: [
    { name: 'ipxe', match: { ipxe: true }, options: { bootFileName: 'http://10.0.0.1/boot.ipxe', ipxeNoProxyWait: true } },
    { name: 'uefi-http', match: { vendorClassPrefix: 'HTTPClient' }, options: { bootFileName: 'http://10.0.0.1/shimx64.efi' } },
    { name: 'uefi-pxe', match: { vendorClassPrefix: 'PXEClient', arch: [7, 9] }, options: { nextServer: '10.0.0.1', bootFile: 'ipxe.efi', pxeDiscoveryControl: 8 } },
    { name: 'bios-pxe', match: { vendorClassPrefix: 'PXEClient', arch: [0] }, options: { nextServer: '10.0.0.1', bootFile: 'undionly.kpxe', pxeDiscoveryControl: 8 } },
    { name: 'onie', match: { vendorClassPrefix: 'onie_vendor:', userClass: 'onie_dhcp_user_class' }, options: { defaultUrl: 'http://10.0.0.1/onie-installer' } },
  ],
};

function offerFor(p: Dhcp4Packet) {
  const policy = new Dhcp4ReplyPolicy(config);
  const d = policy.answer(p, { address: '0.0.0.0', port: 68 }, 1_800_000_000_000);
  return { offer: d.replies[0]!.packet, className: d.events.find((e) => e.type === 'dhcp.offer')?.className };
}

const hex = (b: Uint8Array | undefined): string | undefined => (b ? Buffer.from(b).toString('hex') : undefined);

describe('class rules on real client DISCOVERs', () => {
  const discovers = capturedDiscovers();

  it('finds the firmware the captures hold', () => {
    expect([...discovers.keys()]).toEqual(
      expect.arrayContaining([
        'PXEClient:Arch:00000:UNDI:002001',
        'PXEClient:Arch:00007:UNDI:003000',
        'PXEClient:Arch:00007:UNDI:003010',
        'HTTPClient:Arch:00016:UNDI:003000',
        'onie_vendor:x86_64-kvm_x86_64-r0',
      ]),
    );
  });

  it('sends iPXE (option 175 present) its script URL and 175.176 = 1, not the ROM image', () => {
    const { offer, className } = offerFor(discovers.get('PXEClient:Arch:00007:UNDI:003010')!);
    expect(className).toBe('ipxe');
    expect(readString(getOption(offer, 67)!)).toBe('http://10.0.0.1/boot.ipxe');
    expect(hex(getOption(offer, 175))).toBe('b00101');
    // No PXE vendor options, so no PXEClient echo (vendor-class-echo.test.ts).
    expect(getOption(offer, 60)).toBeUndefined();
  });

  it('gives EDK2 UEFI PXE (arch 7) ipxe.efi in the BOOTP header, 43 = 06 01 08 ff, 60 and its 97 echoed', () => {
    const request = discovers.get('PXEClient:Arch:00007:UNDI:003000')!;
    const { offer, className } = offerFor(request);
    expect(className).toBe('uefi-pxe');
    expect([offer.siaddr, offer.file]).toEqual(['10.0.0.1', 'ipxe.efi']);
    expect(hex(getOption(offer, 43))).toBe('060108ff');
    expect(readString(getOption(offer, 60)!)).toBe('PXEClient');
    expect(hex(getOption(offer, 97))).toBe(hex(getOption(request, 97)));
  });

  it('echoes HTTPClient to EDK2 HTTP Boot (which drops offers without it) with its boot URI in 67', () => {
    const { offer, className } = offerFor(discovers.get('HTTPClient:Arch:00016:UNDI:003000')!);
    expect(className).toBe('uefi-http');
    expect(readString(getOption(offer, 60)!)).toBe('HTTPClient');
    expect(readString(getOption(offer, 67)!)).toBe('http://10.0.0.1/shimx64.efi');
  });

  it('matches ONIE by vendor class and its RFC 3004 user class, and sends no PXE echo', () => {
    const { offer, className } = offerFor(discovers.get('onie_vendor:x86_64-kvm_x86_64-r0')!);
    expect(className).toBe('onie');
    expect(readString(getOption(offer, 114)!)).toBe('http://10.0.0.1/onie-installer');
    expect(getOption(offer, 60)).toBeUndefined();
  });

  it('matches a MAC pattern and a client id', () => {
    const byMac: Dhcp4ServerConfig = { ...config, classes: [{ name: 'lab-rack', match: { mac: ['02:00:00:*:*:*'] }, options: { hostname: 'rack' } }] };
    const policy = new Dhcp4ReplyPolicy(byMac);
    const p = discovers.get('(none)')!;
    const d = policy.answer({ ...p, chaddr: '02:00:00:ab:cd:ef' }, { address: '0.0.0.0', port: 68 }, 0);
    expect(d.events.find((e) => e.type === 'dhcp.offer')?.className).toBe('lab-rack');
    const other = policy.answer({ ...p, chaddr: '52:54:00:ab:cd:ef', xid: 77 }, { address: '0.0.0.0', port: 68 }, 0);
    expect(other.events.find((e) => e.type === 'dhcp.offer')?.className).toBeUndefined();

    const ipxe = discovers.get('PXEClient:Arch:00007:UNDI:003010')!;
    const byId: Dhcp4ServerConfig = { ...config, classes: [{ name: 'one-box', match: { clientId: hex(getOption(ipxe, 61))!.toUpperCase() }, options: { hostname: 'box' } }] };
    const idPolicy = new Dhcp4ReplyPolicy(byId);
    expect(idPolicy.answer(ipxe, { address: '0.0.0.0', port: 68 }, 0).events.find((e) => e.type === 'dhcp.offer')?.className).toBe('one-box');
  });
});

describe('option 43 for PXE ROMs', () => {
  it('encodes discovery control, boot servers, a boot menu and its prompt, then the end marker', async () => {
    const { encodeOptionValues } = await import('../../../src/net/dhcp4/option-values.js');
    const data = encodeOptionValues({
      pxeDiscoveryControl: 3,
      pxeBootServers: [{ type: 0x8000, addresses: ['10.0.0.2'] }],
      pxeBootMenu: [{ type: 0x8000, description: 'iPXE' }],
      pxeMenuPrompt: { timeout: 5, text: 'Boot' },
    }).get(43)!;
    expect(Buffer.from(data).toString('hex')).toBe(
      ['060103', '0807' + '8000' + '01' + '0a000002', '0907' + '8000' + '04' + Buffer.from('iPXE').toString('hex'), '0a05' + '05' + Buffer.from('Boot').toString('hex'), 'ff'].join(''),
    );
  });
});
