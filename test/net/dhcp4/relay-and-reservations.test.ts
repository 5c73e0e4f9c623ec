import { describe, expect, it } from 'vitest';
import { Dhcp4ReplyPolicy } from '../../../src/net/dhcp4/reply-policy.js';
import { Dhcp4Server } from '../../../src/net/dhcp4/server.js';
import type { Dhcp4ServerConfig } from '../../../src/net/dhcp4/server-config.js';
import { Dhcp4MessageType, ipOption, messageType, messageTypeOption } from '../../../src/protocol/dhcp4/options.js';
import { dhcp4Request, type Dhcp4OptionEntry, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';
import { encodeRelayAgentInfo, relayAgentInfo } from '../../../src/protocol/dhcp4/relay-agent-info.js';

const FROM = { address: '10.9.0.1', port: 67 };
const NOW = 1_800_000_000_000;

function setup(over: Partial<Dhcp4ServerConfig['pool']> = {}, replyTo: 'broadcast' | 'source' = 'broadcast') {
  const config: Dhcp4ServerConfig = {
    bind: { address: '0.0.0.0', port: 0 },
    serverId: '10.9.0.254',
    replyTo,
    pool: { start: '10.9.0.10', end: '10.9.0.20', subnetMask: '255.255.255.0', leaseSeconds: 600, ...over },
  };
  return new Dhcp4ReplyPolicy(config);
}

const req = (type: Dhcp4MessageType, mac: string, options: Dhcp4OptionEntry[] = [], over: Partial<Dhcp4Packet> = {}): Dhcp4Packet =>
  dhcp4Request({ xid: 9, chaddr: mac, options: [messageTypeOption(type), ...options], ...over });

// A relay's circuit id and remote id sub-options (RFC 3046), echoed byte for byte.
const AGENT_INFO = { code: 82, data: Uint8Array.of(1, 4, 0x65, 0x74, 0x68, 0x31, 2, 2, 0xab, 0xcd) };

describe('relayed requests', () => {
  it('answers to giaddr:67 and echoes option 82 unchanged as the last option, in OFFER, ACK and NAK', () => {
    const p = setup();
    const relayed = { giaddr: '10.9.0.1', hops: 1 };
    const offer = p.answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:00:01', [AGENT_INFO], relayed), FROM, NOW).replies[0]!;
    expect(offer.to).toEqual({ address: '10.9.0.1', port: 67 });
    expect(offer.packet.giaddr).toBe('10.9.0.1');
    // RFC 2131 table 3: servers send hops 0; the relay counts its own.
    expect(offer.packet.hops).toBe(0);
    expect(offer.packet.options.at(-1)).toEqual(AGENT_INFO);

    const request = [ipOption(50, offer.packet.yiaddr), ipOption(54, '10.9.0.254'), AGENT_INFO];
    const ack = p.answer(req(Dhcp4MessageType.REQUEST, '02:00:00:00:00:01', request, relayed), FROM, NOW).replies[0]!;
    expect(messageType(ack.packet)).toBe(Dhcp4MessageType.ACK);
    expect(ack.packet.options.at(-1)).toEqual(AGENT_INFO);

    const wrong = [ipOption(50, '10.9.0.99'), AGENT_INFO];
    const nak = p.answer(req(Dhcp4MessageType.REQUEST, '02:00:00:00:00:02', wrong, relayed), FROM, NOW).replies[0]!;
    expect(messageType(nak.packet)).toBe(Dhcp4MessageType.NAK);
    expect(nak.packet.options.at(-1)).toEqual(AGENT_INFO);
  });

  it('sends no option 82 to a client whose request had none', () => {
    const offer = setup().answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:00:03'), FROM, NOW).replies[0]!;
    expect(offer.packet.options.some((o) => o.code === 82)).toBe(false);
  });
});

describe('reservations', () => {
  const reservations = [
    { mac: '02:00:00:00:00:aa', address: '10.9.0.15' },
    // ONIE's client id: 0x00 followed by the serial number.
    { clientId: `00${Buffer.from('SN-42').toString('hex')}`, address: '10.9.0.200' },
  ];

  it('gives a reserved client its address (by MAC, and by option 61 even outside the range)', () => {
    const p = setup({ reservations });
    expect(p.answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:00:aa'), FROM, NOW).replies[0]!.packet.yiaddr).toBe('10.9.0.15');
    const byId = [{ code: 61, data: Uint8Array.from(Buffer.from(`00${Buffer.from('SN-42').toString('hex')}`, 'hex')) }];
    expect(p.answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:00:bb', byId), FROM, NOW).replies[0]!.packet.yiaddr).toBe('10.9.0.200');
  });

  it('never gives a reserved address to anyone else, even when the pool runs dry', () => {
    const p = setup({ start: '10.9.0.14', end: '10.9.0.16', reservations });
    const given = [1, 2, 3].map((i) => p.answer(req(Dhcp4MessageType.DISCOVER, `02:00:00:00:01:0${i}`), FROM, NOW).replies[0]?.packet.yiaddr);
    expect(given).toEqual(['10.9.0.14', '10.9.0.16', undefined]);
    const stolen = p.answer(req(Dhcp4MessageType.REQUEST, '02:00:00:00:01:09', [ipOption(50, '10.9.0.15')]), FROM, NOW).replies[0]!;
    expect(messageType(stolen.packet)).toBe(Dhcp4MessageType.NAK);
  });

  it('NAKs a reserved client that asks for some other address', () => {
    const p = setup({ reservations });
    const r = p.answer(req(Dhcp4MessageType.REQUEST, '02:00:00:00:00:aa', [ipOption(50, '10.9.0.11')]), FROM, NOW).replies[0]!;
    expect(messageType(r.packet)).toBe(Dhcp4MessageType.NAK);
  });

  it('refuses a reservation without mac or clientId, naming it', () => {
    expect(
      () =>
        new Dhcp4Server({
          bind: { address: '127.0.0.1', port: 0 },
          serverId: '10.9.0.254',
          replyTo: 'source',
          pool: { start: '10.9.0.10', end: '10.9.0.20', subnetMask: '255.255.255.0', leaseSeconds: 600, reservations: [{ address: '10.9.0.12' }] },
        }),
    ).toThrow(/pool\.reservations\[0\]: needs mac, clientId or circuitId/);
  });
});

describe('several subnets', () => {
  const multi = (): Dhcp4ReplyPolicy =>
    new Dhcp4ReplyPolicy({
      bind: { address: '0.0.0.0', port: 67 },
      serverId: '10.9.0.254',
      replyTo: 'broadcast',
      pool: { start: '10.9.0.10', end: '10.9.0.20', subnetMask: '255.255.255.0', leaseSeconds: 600 },
      options: { dns: ['10.9.0.254'] },
      subnets: [{ subnet: '10.8.0.0/16', pool: { start: '10.8.1.50', end: '10.8.1.60' }, leaseSeconds: 120, options: { router: ['10.8.0.1'] } }],
    });
  const asking = [{ code: 55, data: Uint8Array.of(1, 3, 6, 51) }];

  it("serves a relayed request from its giaddr's subnet, with that subnet's mask, router and lease time", () => {
    const offer = multi().answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:08:01', asking, { giaddr: '10.8.0.1' }), FROM, NOW).replies[0]!.packet;
    expect(offer.yiaddr).toBe('10.8.1.50');
    const get = (code: number) => Buffer.from(offer.options.find((o) => o.code === code)!.data).toString('hex');
    expect([get(1), get(3), get(6), get(51)]).toEqual(['ffff0000', '0a080001', '0a0900fe', '00000078']);
  });

  it('serves a client on its own link from the primary pool', () => {
    expect(multi().answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:08:02', asking), FROM, NOW).replies[0]!.packet.yiaddr).toBe('10.9.0.10');
  });

  it('drops, and says why, a request relayed from a subnet it does not serve', () => {
    const d = multi().answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:08:03', [], { giaddr: '10.7.0.1' }), FROM, NOW);
    expect(d.replies).toEqual([]);
    expect(d.dropped).toBe('no-subnet');
  });
});

describe('RFC 2131 client states after the first lease', () => {
  it('RENEWING (ciaddr, no 50/54) extends the lease and answers unicast to ciaddr:68; REBINDING does the same', () => {
    const p = setup();
    const mac = '02:00:00:00:09:01';
    const offer = p.answer(req(Dhcp4MessageType.DISCOVER, mac), FROM, NOW).replies[0]!.packet;
    p.answer(req(Dhcp4MessageType.REQUEST, mac, [ipOption(50, offer.yiaddr), ipOption(54, '10.9.0.254')]), FROM, NOW);
    const later = NOW + 300_000;
    const renew = p.answer(req(Dhcp4MessageType.REQUEST, mac, [], { ciaddr: offer.yiaddr }), { address: offer.yiaddr, port: 68 }, later);
    expect(messageType(renew.replies[0]!.packet)).toBe(Dhcp4MessageType.ACK);
    expect(renew.replies[0]!.to).toEqual({ address: offer.yiaddr, port: 68 });
    expect(renew.lease).toEqual({ client: `hw:1:${mac}`, address: offer.yiaddr, expiresAt: later + 600_000 });
    const rebind = p.answer(req(Dhcp4MessageType.REQUEST, mac, [], { ciaddr: offer.yiaddr, broadcast: true }), FROM, later + 1000);
    expect(messageType(rebind.replies[0]!.packet)).toBe(Dhcp4MessageType.ACK);
  });

  it('INIT-REBOOT with an address from another network gets a NAK, broadcast', () => {
    const d = setup().answer(req(Dhcp4MessageType.REQUEST, '02:00:00:00:09:02', [ipOption(50, '192.168.77.5')]), FROM, NOW);
    expect(messageType(d.replies[0]!.packet)).toBe(Dhcp4MessageType.NAK);
    expect(d.replies[0]!.to).toEqual({ address: '255.255.255.255', port: 68 });
  });

  it('gives an expired lease back to the same client first', () => {
    const p = setup({ start: '10.9.0.10', end: '10.9.0.11' });
    const a = p.answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:09:03'), FROM, NOW).replies[0]!.packet.yiaddr;
    p.answer(req(Dhcp4MessageType.REQUEST, '02:00:00:00:09:03', [ipOption(50, a), ipOption(54, '10.9.0.254')]), FROM, NOW);
    const afterExpiry = NOW + 700_000;
    expect(p.answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:09:03'), FROM, afterExpiry).replies[0]!.packet.yiaddr).toBe(a);
  });
});

describe('option 82: reservations by circuit-id and class rules on circuit-id and remote-id', () => {
  const relayed = (circuit: string, remote: string) => ({
    code: 82,
    data: encodeRelayAgentInfo(relayAgentInfo({ circuitId: circuit, remoteId: remote })),
  });
  const via = { giaddr: '10.9.0.1', hops: 1 };

  it('gives the switch port its address whoever is cabled to it; a MAC reservation still wins', () => {
    const p = setup({ reservations: [{ circuitId: 'r1-mgmt:Gi1/7', address: '10.9.0.17' }, { mac: '02:00:00:00:00:aa', address: '10.9.0.15' }] });
    const first = p.answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:07:01', [relayed('r1-mgmt:Gi1/7', 'r1')], via), FROM, NOW).replies[0]!;
    expect(first.packet.yiaddr).toBe('10.9.0.17');
    // An RMA replacement at the same port (the old switch gone): a new MAC, the same address.
    const fresh = setup({ reservations: [{ circuitId: 'r1-mgmt:Gi1/7', address: '10.9.0.17' }] });
    const replacement = fresh.answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:07:02', [relayed('r1-mgmt:Gi1/7', 'r1')], via), FROM, NOW).replies[0]!;
    expect(replacement.packet.yiaddr).toBe('10.9.0.17');
    const other = p.answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:07:03', [relayed('r1-mgmt:Gi1/8', 'r1')], via), FROM, NOW).replies[0]!;
    expect(other.packet.yiaddr).not.toBe('10.9.0.17');
    const mac = p.answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:00:aa', [relayed('r1-mgmt:Gi1/7', 'r1')], via), FROM, NOW).replies[0]!;
    expect(mac.packet.yiaddr).toBe('10.9.0.15');
    // Unrelayed, nothing names the port: an address from the pool.
    expect(p.answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:07:04'), FROM, NOW).replies[0]!.packet.yiaddr).not.toBe('10.9.0.17');
  });

  it('matches class rules on the circuit-id and the remote-id, each exactly', () => {
    const config: Dhcp4ServerConfig = {
      bind: { address: '0.0.0.0', port: 0 },
      serverId: '10.9.0.254',
      replyTo: 'broadcast',
      pool: { start: '10.9.0.10', end: '10.9.0.20', subnetMask: '255.255.255.0', leaseSeconds: 600 },
      classes: [
        { name: 'port-7', match: { circuitId: 'r1-mgmt:Gi1/7' }, options: { defaultUrl: 'http://s/port7.bin' } },
        { name: 'rack-r2', match: { remoteId: 'r2' }, options: { defaultUrl: 'http://s/r2.bin' } },
      ],
    };
    const p = new Dhcp4ReplyPolicy(config);
    const urlOf = (circuit: string, remote: string): string | undefined => {
      const asks = { code: 55, data: Uint8Array.of(1, 3, 114) };
      const offer = p.answer(req(Dhcp4MessageType.DISCOVER, '02:00:00:00:09:01', [asks, relayed(circuit, remote)], via), FROM, NOW).replies[0]!;
      const o = offer.packet.options.find((x) => x.code === 114);
      return o ? Buffer.from(o.data).toString() : undefined;
    };
    expect(urlOf('r1-mgmt:Gi1/7', 'r1')).toBe('http://s/port7.bin');
    expect(urlOf('r2-mgmt:Gi1/7', 'r2')).toBe('http://s/r2.bin');
    expect(urlOf('r1-mgmt:Gi1/70', 'r1')).toBeUndefined();
  });

  it('a server config with a class matching nothing, or a reservation naming nobody, is refused by name', () => {
    const base = { bind: { address: '127.0.0.1', port: 0 }, serverId: '10.9.0.254', replyTo: 'source' as const };
    const pool = { start: '10.9.0.10', end: '10.9.0.20', subnetMask: '255.255.255.0', leaseSeconds: 600 };
    expect(() => new Dhcp4Server({ ...base, pool, classes: [{ name: 'x', match: {}, options: {} }] })).toThrow(/needs at least one of .*circuitId, remoteId/);
  });
});

