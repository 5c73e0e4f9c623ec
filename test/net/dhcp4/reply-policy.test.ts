import { describe, expect, it } from 'vitest';
import { onieDhcpClientOptions } from '../../../src/device/onie/dhcp-client-options.js';
import { Dhcp4ReplyPolicy } from '../../../src/net/dhcp4/reply-policy.js';
import type { Dhcp4ServerConfig } from '../../../src/net/dhcp4/server-config.js';
import { Dhcp4MessageType, getOption, ipOption, messageType, messageTypeOption, readString, u8ListOption } from '../../../src/protocol/dhcp4/options.js';
import { dhcp4Request, type Dhcp4OptionEntry, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';
import { kvmIdentity } from '../../device/onie/fixtures.js';

const FROM = { address: '127.0.0.1', port: 40000 };

const config = (over: Partial<Dhcp4ServerConfig> = {}): Dhcp4ServerConfig => ({
  bind: { address: '127.0.0.1', port: 0 },
  serverId: '10.0.0.1',
  replyTo: 'source',
  pool: { start: '10.0.0.10', end: '10.0.0.20', subnetMask: '255.255.255.0', leaseSeconds: 600 },
  options: { router: ['10.0.0.1'], dns: ['10.0.0.2'], tftpServerAddresses: ['10.0.0.3'], nextServer: '10.0.0.4' },
  classes: [
    {
      name: 'onie',
      match: { vendorClassPrefix: 'onie_vendor:' },
      options: { defaultUrl: 'http://10.0.0.1/onie-installer', onie: { installerUrl: 'http://10.0.0.1/i.bin' }, bootFile: 'onie.bin' },
      force: [150],
    },
    { name: 'ipxe', match: { userClass: 'iPXE' }, options: { bootFileName: 'boot.ipxe' } },
  ],
  ...over,
});

function policy(over: Partial<Dhcp4ServerConfig> = {}): Dhcp4ReplyPolicy {
  const c = config(over);
  return new Dhcp4ReplyPolicy(c);
}

function request(type: Dhcp4MessageType, options: Dhcp4OptionEntry[], over: Partial<Dhcp4Packet> = {}): Dhcp4Packet {
  return dhcp4Request({ xid: 0x1234, chaddr: '52:54:00:13:34:01', options: [messageTypeOption(type), ...options], ...over });
}

describe('Dhcp4ReplyPolicy', () => {
  it('offers an address with 53, 54, 51, 1 first, then the requested options in the client’s order (150 only when forced)', () => {
    const d = policy().answer(request(Dhcp4MessageType.DISCOVER, [u8ListOption(55, [6, 3, 150])]), FROM, 0);
    expect(d.replies).toHaveLength(1);
    const offer = d.replies[0]!.packet;
    expect(messageType(offer)).toBe(Dhcp4MessageType.OFFER);
    expect(offer.yiaddr).toBe('10.0.0.10');
    expect(offer.siaddr).toBe('10.0.0.4');
    expect(offer.options.map((o) => o.code)).toEqual([53, 54, 51, 1, 6, 3]);
    expect(d.replies[0]!.to).toEqual(FROM);
    expect(d.events.map((e) => e.type)).toEqual(['dhcp.discover', 'dhcp.offer']);
  });

  it('gives ONIE its class options and forces 150, which ONIE never asks for', () => {
    const d = policy().answer(request(Dhcp4MessageType.DISCOVER, onieDhcpClientOptions(kvmIdentity)), FROM, 0);
    const offer = d.replies[0]!.packet;
    expect(offer.options.map((o) => o.code)).toEqual([53, 54, 51, 1, 3, 6, 114, 125, 150]);
    expect(readString(getOption(offer, 114)!)).toBe('http://10.0.0.1/onie-installer');
    expect(offer.file).toBe('onie.bin');
    expect(d.events[1]).toMatchObject({ type: 'dhcp.offer', className: 'onie', mac: '52:54:00:13:34:01', address: '10.0.0.10' });
  });

  it('matches a user class sent as a bare string (iPXE) or as RFC 3004 classes', () => {
    const bare = policy().answer(request(Dhcp4MessageType.DISCOVER, [{ code: 77, data: new Uint8Array(Buffer.from('iPXE')) }, u8ListOption(55, [67])]), FROM, 0);
    expect(readString(getOption(bare.replies[0]!.packet, 67)!)).toBe('boot.ipxe');
    const listed = policy().answer(request(Dhcp4MessageType.DISCOVER, [{ code: 77, data: Uint8Array.of(4, ...Buffer.from('iPXE')) }, u8ListOption(55, [67])]), FROM, 0);
    expect(listed.events[1]?.className).toBe('ipxe');
  });

  it('acknowledges a REQUEST for the offered address and NAKs one for an address held by another client', () => {
    const p = policy();
    p.answer(request(Dhcp4MessageType.DISCOVER, []), FROM, 0);
    const other = p.answer(request(Dhcp4MessageType.DISCOVER, [], { chaddr: '52:54:00:00:00:02' }), FROM, 0).replies[0]!.packet.yiaddr;
    const ack = p.answer(request(Dhcp4MessageType.REQUEST, [ipOption(50, '10.0.0.10'), ipOption(54, '10.0.0.1')]), FROM, 1);
    expect(messageType(ack.replies[0]!.packet)).toBe(Dhcp4MessageType.ACK);
    expect(ack.replies[0]!.packet.yiaddr).toBe('10.0.0.10');
    const nak = p.answer(request(Dhcp4MessageType.REQUEST, [ipOption(50, other), ipOption(54, '10.0.0.1')]), FROM, 2);
    expect(messageType(nak.replies[0]!.packet)).toBe(Dhcp4MessageType.NAK);
    expect(nak.replies[0]!.packet.yiaddr).toBe('0.0.0.0');
    expect(nak.events.at(-1)).toMatchObject({ type: 'dhcp.nak', address: other });
  });

  it('stays silent when the client selected another server, and frees the offer', () => {
    const p = policy({ pool: { start: '10.0.0.10', end: '10.0.0.10', subnetMask: '255.255.255.0', leaseSeconds: 600 } });
    p.answer(request(Dhcp4MessageType.DISCOVER, []), FROM, 0);
    const d = p.answer(request(Dhcp4MessageType.REQUEST, [ipOption(50, '10.0.0.10'), ipOption(54, '10.9.9.9')]), FROM, 1);
    expect(d.replies).toEqual([]);
    expect(d.dropped).toBe('other-server');
    const next = p.answer(request(Dhcp4MessageType.DISCOVER, [], { chaddr: '52:54:00:00:00:02' }), FROM, 2);
    expect(next.replies[0]!.packet.yiaddr).toBe('10.0.0.10');
  });

  it('acknowledges an init-reboot REQUEST for a free address and a renewal by ciaddr', () => {
    const p = policy();
    const reboot = p.answer(request(Dhcp4MessageType.REQUEST, [ipOption(50, '10.0.0.15')]), FROM, 0);
    expect(reboot.replies[0]!.packet.yiaddr).toBe('10.0.0.15');
    const renew = p.answer(request(Dhcp4MessageType.REQUEST, [], { ciaddr: '10.0.0.15' }), FROM, 1);
    expect(messageType(renew.replies[0]!.packet)).toBe(Dhcp4MessageType.ACK);
    expect(renew.replies[0]!.packet.ciaddr).toBe('10.0.0.15');
    const outside = p.answer(request(Dhcp4MessageType.REQUEST, [ipOption(50, '192.168.1.5')]), FROM, 2);
    expect(messageType(outside.replies[0]!.packet)).toBe(Dhcp4MessageType.NAK);
  });

  it('keys the lease on option 61 when the client sends one', () => {
    const p = policy();
    const id = { code: 61, data: Uint8Array.of(0, 0x41) };
    const first = p.answer(request(Dhcp4MessageType.DISCOVER, [id]), FROM, 0).replies[0]!.packet.yiaddr;
    const sameIdOtherMac = p.answer(request(Dhcp4MessageType.DISCOVER, [id], { chaddr: '52:54:00:00:00:09' }), FROM, 1).replies[0]!.packet.yiaddr;
    const sameMacNoId = p.answer(request(Dhcp4MessageType.DISCOVER, []), FROM, 2).replies[0]!.packet.yiaddr;
    expect(sameIdOtherMac).toBe(first);
    expect(sameMacNoId).not.toBe(first);
  });

  it('reports pool exhaustion instead of answering', () => {
    const p = policy({ pool: { start: '10.0.0.10', end: '10.0.0.10', subnetMask: '255.255.255.0', leaseSeconds: 600 } });
    p.answer(request(Dhcp4MessageType.DISCOVER, []), FROM, 0);
    const d = p.answer(request(Dhcp4MessageType.DISCOVER, [], { chaddr: '52:54:00:00:00:02' }), FROM, 1);
    expect(d.replies).toEqual([]);
    expect(d.events.map((e) => e.type)).toEqual(['dhcp.discover', 'dhcp.pool-exhausted']);
  });

  it('12: counts a DISCOVER refused by a full pool as dropped for pool-exhausted', () => {
    const p = policy({ pool: { start: '10.0.0.10', end: '10.0.0.10', subnetMask: '255.255.255.0', leaseSeconds: 600 } });
    p.answer(request(Dhcp4MessageType.DISCOVER, []), FROM, 0);
    expect(p.answer(request(Dhcp4MessageType.DISCOVER, [], { chaddr: '52:54:00:00:00:02' }), FROM, 1).dropped).toBe('pool-exhausted');
    // An unrequested offer is taken back for a new client after 5 s (a flood of DISCOVERs
    // must not hold the pool), and the first client's late REQUEST is refused.
    expect(p.answer(request(Dhcp4MessageType.DISCOVER, [], { chaddr: '52:54:00:00:00:02' }), FROM, 5_000).replies[0]?.packet.yiaddr).toBe('10.0.0.10');
  });

  it('frees an address on RELEASE', () => {
    const p = policy({ pool: { start: '10.0.0.10', end: '10.0.0.10', subnetMask: '255.255.255.0', leaseSeconds: 600 } });
    p.answer(request(Dhcp4MessageType.REQUEST, [ipOption(50, '10.0.0.10')]), FROM, 0);
    p.answer(request(Dhcp4MessageType.RELEASE, [ipOption(54, '10.0.0.1')], { ciaddr: '10.0.0.10' }), FROM, 1);
    expect(p.answer(request(Dhcp4MessageType.DISCOVER, [], { chaddr: '52:54:00:00:00:02' }), FROM, 2).replies).toHaveLength(1);
  });

  it('answers INFORM with options and no lease', () => {
    const d = policy().answer(request(Dhcp4MessageType.INFORM, [u8ListOption(55, [6])], { ciaddr: '10.0.0.99' }), FROM, 0);
    const ack = d.replies[0]!.packet;
    expect(ack.yiaddr).toBe('0.0.0.0');
    expect(ack.options.map((o) => o.code)).toEqual([53, 54, 1, 6]);
  });

  it('drops replies, BOOTP requests and server-only message types with a reason', () => {
    const p = policy();
    expect(p.answer({ ...request(Dhcp4MessageType.OFFER, []), op: 'reply' }, FROM, 0).dropped).toBe('not-a-request');
    expect(p.answer({ ...request(Dhcp4MessageType.DISCOVER, []), options: [] }, FROM, 0).dropped).toBe('no-message-type');
    expect(p.answer(request(Dhcp4MessageType.ACK, []), FROM, 0).dropped).toBe('unexpected-message-type');
  });

  it('broadcasts replies to the client port, or sends them to the relay, in broadcast mode', () => {
    const p = policy({ replyTo: 'broadcast', clientPort: 6868 });
    expect(p.answer(request(Dhcp4MessageType.DISCOVER, []), FROM, 0).replies[0]!.to).toEqual({ address: '255.255.255.255', port: 6868 });
    const relayed = p.answer(request(Dhcp4MessageType.DISCOVER, [], { giaddr: '10.0.0.254', chaddr: '52:54:00:00:00:07' }), FROM, 0);
    expect(relayed.replies[0]!.to).toEqual({ address: '10.0.0.254', port: 67 });
    expect(relayed.replies[0]!.packet.giaddr).toBe('10.0.0.254');
  });

  it('refuses class options that cannot be encoded when it is built', () => {
    expect(() => policy({ options: { router: ['10.0.0.300'] } })).toThrow(/BL_CONFIG_INVALID|not a dotted/);
  });
});
