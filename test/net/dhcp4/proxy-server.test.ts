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
