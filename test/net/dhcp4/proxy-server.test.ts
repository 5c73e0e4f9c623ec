import { describe, expect, it } from 'vitest';
import type { DatagramPeer, DatagramPort } from '../../../src/net/datagram-port.js';
import { ProxyDhcpServer, type ProxyDhcpConfig } from '../../../src/net/dhcp4/proxy-server.js';
import { Dhcp4MessageType, getOption, messageType, messageTypeOption, readString } from '../../../src/protocol/dhcp4/options.js';
import { decodeDhcp4, encodeDhcp4, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';
import { dhcpDatagrams } from '../../fixtures/dhcp4/pcap-reader.js';

/** In-memory sockets keyed by bound port: the test delivers datagrams and reads replies. */
function memoryNet() {
  const ports = new Map<number, { listener?: (b: Uint8Array, f: DatagramPeer) => void; sent: Array<{ packet: Dhcp4Packet; to: DatagramPeer }> }>();
  const openPort = async (bind: { address: string; port: number }): Promise<DatagramPort> => {
    const entry: { listener?: (b: Uint8Array, f: DatagramPeer) => void; sent: Array<{ packet: Dhcp4Packet; to: DatagramPeer }> } = { sent: [] };
    ports.set(bind.port, entry);
    return {
      send: async (bytes, address, port) => {
        const d = decodeDhcp4(bytes);
        if (!d.ok) throw d.error;
        entry.sent.push({ packet: d.value, to: { address, port } });
      },
      onMessage: (fn) => {
        entry.listener = fn;
        return () => delete entry.listener;
      },
      close: async () => undefined,
      address: () => bind,
    };
  };
  return {
    openPort,
    deliver: (port: number, p: Dhcp4Packet | Uint8Array, from: DatagramPeer = { address: '0.0.0.0', port: 68 }) =>
      ports.get(port)!.listener!(p instanceof Uint8Array ? p : encodeDhcp4(p), from),
    sent: (port: number) => ports.get(port)!.sent,
  };
}

function captured(vendorClass: string): Dhcp4Packet {
  for (const file of ['clients.pcap', 'fw-dhcp.pcap']) {
    for (const d of dhcpDatagrams(new URL(`../../fixtures/dhcp4/${file}`, import.meta.url).pathname)) {
      const p = decodeDhcp4(d.payload);
      if (p.ok && messageType(p.value) === Dhcp4MessageType.DISCOVER && readString(getOption(p.value, 60) ?? new Uint8Array()) === vendorClass) return p.value;
    }
  }
  throw new Error(`no captured DISCOVER from ${vendorClass}`);
}

const config = (bootFileInOffer: boolean): ProxyDhcpConfig => ({
  bind: { address: '0.0.0.0', port: 67 },
  bootServerBind: { address: '0.0.0.0', port: 4011 },
  serverId: '10.0.0.2',
  replyTo: 'broadcast',
  bootFileInOffer,
  classes: [
    { name: 'uefi', match: { arch: [7, 9] }, options: { nextServer: '10.0.0.2', bootFile: 'ipxe.efi' } },
    { name: 'bios', match: { arch: [0] }, options: { nextServer: '10.0.0.2', bootFile: 'undionly.kpxe', pxeDiscoveryControl: 8 } },
  ],
});

describe('ProxyDhcpServer', () => {
  it('offers a PXE client boot identity without an address, and the file later on port 4011', async () => {
    const net = memoryNet();
    const proxy = new ProxyDhcpServer(config(false), { openPort: net.openPort });
    await proxy.start();
    const discover = captured('PXEClient:Arch:00007:UNDI:003000');
    net.deliver(67, discover);
    const [offer] = net.sent(67);
    expect(offer!.to).toEqual({ address: '255.255.255.255', port: 68 });
    expect(offer!.packet.yiaddr).toBe('0.0.0.0');
    expect(offer!.packet.file).toBe('');
    expect(offer!.packet.options.map((o) => o.code)).toEqual([53, 54, 60, 97]);
    expect(readString(getOption(offer!.packet, 60)!)).toBe('PXEClient');

    // With its lease from the real DHCP server, the client asks the boot server for item 1.
    const bootItem = Uint8Array.of(71, 4, 0x80, 0x00, 0x00, 0x00, 255);
    const request = { ...discover, ciaddr: '10.0.0.77', options: [messageTypeOption(Dhcp4MessageType.REQUEST), ...discover.options.filter((o) => o.code !== 53), { code: 43, data: bootItem }] };
    net.deliver(4011, request, { address: '10.0.0.77', port: 4011 });
    const [ack] = net.sent(4011);
    expect(messageType(ack!.packet)).toBe(Dhcp4MessageType.ACK);
    expect(ack!.to).toEqual({ address: '10.0.0.77', port: 4011 });
    expect([ack!.packet.siaddr, ack!.packet.file, ack!.packet.yiaddr]).toEqual(['10.0.0.2', 'ipxe.efi', '0.0.0.0']);
    expect(getOption(ack!.packet, 43)).toEqual(bootItem);
    await proxy.stop();
  });

  it('names the file in the offer itself when told to, with the rule\'s option 43', async () => {
    const net = memoryNet();
    const proxy = new ProxyDhcpServer(config(true), { openPort: net.openPort });
    await proxy.start();
    net.deliver(67, captured('PXEClient:Arch:00000:UNDI:002001'));
    const [offer] = net.sent(67);
    expect([offer!.packet.siaddr, offer!.packet.file]).toEqual(['10.0.0.2', 'undionly.kpxe']);
    expect(Buffer.from(getOption(offer!.packet, 43)!).toString('hex')).toBe('060108ff');
    expect(offer!.packet.options.some((o) => [1, 3, 51].includes(o.code))).toBe(false);
  });

  it('stays silent for clients that are not PXE, and counts garbage without stopping', async () => {
    const net = memoryNet();
    const proxy = new ProxyDhcpServer(config(true), { openPort: net.openPort });
    await proxy.start();
    net.deliver(67, captured('onie_vendor:x86_64-kvm_x86_64-r0'));
    net.deliver(67, Uint8Array.of(1, 2, 3));
    net.deliver(67, captured('HTTPClient:Arch:00016:UNDI:003000'));
    expect(net.sent(67)).toHaveLength(0);
    expect(proxy.stats.dropped).toMatchObject({ 'not-pxe': 2, BL_DECODE_TRUNCATED: 1 });
    net.deliver(67, captured('PXEClient:Arch:00007:UNDI:003000'));
    expect(net.sent(67)).toHaveLength(1);
  });

  it('refuses a configuration that could never hand out a boot file', () => {
    const { bootServerBind: _omit, ...noBootServer } = config(false);
    expect(() => new ProxyDhcpServer(noBootServer)).toThrow(/needs bootServerBind/);
  });
});

/** OVMF's EDK2 PXE and then iPXE on the same NIC (52:54:00:12:34:57), as captured under QEMU. */
const EDK2 = 'PXEClient:Arch:00007:UNDI:003000';
const IPXE = 'PXEClient:Arch:00007:UNDI:003010';
const SCRIPT = 'http://10.0.0.2/boot.ipxe';

const chainload = (bootFileInOffer: boolean, extra: Partial<ProxyDhcpConfig> = {}): ProxyDhcpConfig => ({
  ...config(bootFileInOffer),
  classes: [
    // iPXE first: it is also a PXEClient of arch 7, and must not get ipxe.efi again.
    { name: 'ipxe', match: { ipxe: true }, options: { bootFileName: SCRIPT } },
    { name: 'uefi', match: { vendorClassPrefix: 'PXEClient', arch: [7, 9] }, options: { nextServer: '10.0.0.2', bootFile: 'ipxe.efi' } },
  ],
  ...extra,
});

/** What the client will boot from a reply: option 67 first, as EDK2 and iPXE read it, else the file field. */
const bootFileOf = (p: Dhcp4Packet): string => {
  const name = getOption(p, 67);
  return name ? readString(name) : p.file;
};

/** The client, holding its lease from the other server, asks the boot server (port 4011). */
const toBootServer = (discover: Dhcp4Packet, ciaddr: string): Dhcp4Packet => ({
  ...discover,
  ciaddr,
  options: [messageTypeOption(Dhcp4MessageType.REQUEST), ...discover.options.filter((o) => o.code !== 53)],
});

describe('ProxyDhcpServer with class rules and reservations', () => {
  it('13: offers OVMF ipxe.efi over TFTP, then iPXE on the same NIC its HTTP script instead of ipxe.efi again', async () => {
    const net = memoryNet();
    const proxy = new ProxyDhcpServer(chainload(true), { openPort: net.openPort });
    await proxy.start();
    const edk2 = captured(EDK2);
    const ipxe = captured(IPXE);
    expect(ipxe.chaddr).toBe(edk2.chaddr);
    net.deliver(67, edk2);
    net.deliver(67, ipxe);
    const [first, second] = net.sent(67).map((s) => s.packet);
    expect([first!.siaddr, bootFileOf(first!), first!.yiaddr]).toEqual(['10.0.0.2', 'ipxe.efi', '0.0.0.0']);
    // siaddr too, though the script comes over HTTP: older iPXE ignores a proxy reply without it.
    expect([bootFileOf(second!), second!.yiaddr, second!.siaddr]).toEqual([SCRIPT, '0.0.0.0', '10.0.0.2']);
    expect(second!.file).not.toBe('ipxe.efi');
    for (const offer of [first!, second!]) {
      expect(readString(getOption(offer, 60)!)).toBe('PXEClient');
      expect(offer.options.some((o) => [1, 3, 6, 51].includes(o.code))).toBe(false);
    }
  });

  it('13: hands the same choice out on port 4011 when the offers name no file', async () => {
    const net = memoryNet();
    const proxy = new ProxyDhcpServer(chainload(false), { openPort: net.openPort });
    await proxy.start();
    net.deliver(67, captured(EDK2));
    net.deliver(67, captured(IPXE));
    for (const { packet } of net.sent(67)) {
      expect([packet.file, getOption(packet, 67)]).toEqual(['', undefined]);
    }
    net.deliver(4011, toBootServer(captured(EDK2), '10.0.0.77'), { address: '10.0.0.77', port: 4011 });
    net.deliver(4011, toBootServer(captured(IPXE), '10.0.0.77'), { address: '10.0.0.77', port: 4011 });
    const [edk2Ack, ipxeAck] = net.sent(4011).map((s) => s.packet);
    expect(bootFileOf(edk2Ack!)).toBe('ipxe.efi');
    expect([bootFileOf(ipxeAck!), ipxeAck!.siaddr]).toEqual([SCRIPT, '10.0.0.2']);
    expect(messageType(ipxeAck!)).toBe(Dhcp4MessageType.ACK);
  });

  it('13: gives a reserved host its own boot options over its class rule, by MAC or by client id', async () => {
    const net = memoryNet();
    const events: Array<{ type: string; detail?: string }> = [];
    const proxy = new ProxyDhcpServer(
      chainload(true, {
        reservations: [
          // iPXE sends option 61 (01 + MAC) and EDK2 none: a client id reservation meets only the iPXE stage.
          { clientId: '01525400123457', options: { bootFileName: 'http://10.0.0.2/hosts/57.ipxe' } },
          { mac: '52:54:00:12:34:57', options: { nextServer: '10.0.0.9' } },
        ],
      }),
      { openPort: net.openPort, onEvent: (e) => events.push(e) },
    );
    await proxy.start();
    net.deliver(67, captured(EDK2));
    net.deliver(67, captured(IPXE));
    net.deliver(67, captured('PXEClient:Arch:00007:UNDI:003016')); // another host: the class rule alone
    const [edk2, ipxe, other] = net.sent(67).map((s) => s.packet);
    expect([edk2!.siaddr, bootFileOf(edk2!)]).toEqual(['10.0.0.9', 'ipxe.efi']);
    expect(bootFileOf(ipxe!)).toBe('http://10.0.0.2/hosts/57.ipxe');
    expect([other!.chaddr, other!.siaddr, bootFileOf(other!)]).toEqual(['02:00:00:00:c1:01', '10.0.0.2', 'ipxe.efi']);
    expect(events.filter((e) => e.type === 'dhcp.offer').map((e) => e.detail)).toEqual([
      'proxy, boot file ipxe.efi, reservation 52:54:00:12:34:57',
      'proxy, boot file http://10.0.0.2/hosts/57.ipxe, reservation client id 01525400123457',
      'proxy, boot file ipxe.efi',
    ]);
  });

  it('13: stays silent for a PXE client that no rule or reservation has a boot file for', async () => {
    const net = memoryNet();
    const proxy = new ProxyDhcpServer(chainload(true), { openPort: net.openPort });
    await proxy.start();
    net.deliver(67, captured('PXEClient:Arch:00000:UNDI:002001'));
    expect(net.sent(67)).toHaveLength(0);
    expect(proxy.stats.dropped).toMatchObject({ 'no-boot-rule': 1 });
  });

  it('13: refuses lease options, ipxeNoProxyWait, force and addresses in a proxy config, naming the setting', () => {
    const refuse = (extra: Partial<ProxyDhcpConfig>) => () => new ProxyDhcpServer(chainload(true, extra));
    expect(refuse({ options: { router: ['10.0.0.1'] } })).toThrow(/proxyDHCP config: options\.router: a proxy sends boot information only/);
    expect(refuse({ classes: [{ name: 'i', match: { ipxe: true }, options: { ipxeNoProxyWait: true } }] })).toThrow(/classes\.0\.options\.ipxeNoProxyWait: tells iPXE not to wait/);
    expect(refuse({ classes: [{ name: 'i', match: { ipxe: true }, options: { bootFile: 'x' }, force: [67] }] })).toThrow(/classes\.0\.force/);
    const withAddress = { mac: '52:54:00:12:34:57', address: '10.0.0.5', options: {} } as unknown as NonNullable<ProxyDhcpConfig['reservations']>[number];
    expect(refuse({ reservations: [withAddress] })).toThrow(/reservations\.0\.address: a proxy gives no addresses/);
    expect(refuse({ reservations: [{ options: { bootFile: 'x' } }] })).toThrow(/reservations\.0: needs mac or clientId/);
  });
});
