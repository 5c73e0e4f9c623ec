import { SimulatedClock } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { onieDhcpClientOptions } from '../../../src/device/onie/dhcp-client-options.js';
import { onieDiscoVars } from '../../../src/device/onie/disco-vars.js';
import { BootlabError, TimeoutError } from '../../../src/errors.js';
import { acquireLease } from '../../../src/net/dhcp4/client.js';
import { Dhcp4Server, type Dhcp4ServerConfig, type Dhcp4ServerEvent } from '../../../src/net/dhcp4/server.js';
import { Dhcp4MessageType, getOption, ipOption, messageType, messageTypeOption, u8ListOption } from '../../../src/protocol/dhcp4/options.js';
import { dhcp4Request, encodeDhcp4, type Dhcp4OptionEntry, type Dhcp4Packet } from '../../../src/protocol/dhcp4/packet.js';
import { decodeVivso, vivsoText } from '../../../src/protocol/dhcp4/vivso.js';
import { SeededRandom } from '../../../src/random.js';
import { accton, kvmIdentity } from '../../device/onie/fixtures.js';
import { impatientClock, rawPeer, waitForEvent } from './helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const baseConfig = (over: Partial<Dhcp4ServerConfig> = {}): Dhcp4ServerConfig => ({
  bind: { address: '127.0.0.1', port: 0 },
  serverId: '127.0.0.1',
  replyTo: 'source',
  pool: { start: '10.99.0.100', end: '10.99.0.199', subnetMask: '255.255.255.0', leaseSeconds: 3600 },
  options: { router: ['10.99.0.1'], dns: ['10.99.0.1'] },
  classes: [
    {
      name: 'onie',
      match: { vendorClassPrefix: 'onie_vendor:' },
      options: { defaultUrl: 'http://127.0.0.1:8080/onie-installer', onie: { installerUrl: 'http://127.0.0.1:8080/sonic.bin' } },
    },
  ],
  ...over,
});

async function startServer(over: Partial<Dhcp4ServerConfig> = {}): Promise<{
  server: Dhcp4Server;
  address: { address: string; port: number };
  events: Dhcp4ServerEvent[];
  on: (fn: (e: Dhcp4ServerEvent) => void) => void;
}> {
  const events: Dhcp4ServerEvent[] = [];
  const listeners: Array<(e: Dhcp4ServerEvent) => void> = [];
  const server = new Dhcp4Server(baseConfig(over), {
    onEvent: (e) => {
      events.push(e);
      for (const l of listeners) l(e);
    },
  });
  const address = await server.start();
  cleanups.push(() => server.stop());
  return { server, address, events, on: (fn) => listeners.push(fn) };
}

function lease(server: { address: string; port: number }, mac: string, options: Dhcp4OptionEntry[], over: Partial<Parameters<typeof acquireLease>[0]> = {}) {
  return acquireLease({
    server,
    mac,
    options,
    attempts: 2,
    retryMs: 2000,
    // Never advanced: the server answers first, so no timer has to fire.
    clock: new SimulatedClock(),
    random: new SeededRandom(mac),
    ...over,
  });
}

function request(type: Dhcp4MessageType, mac: string, options: Dhcp4OptionEntry[], xid = 7): Dhcp4Packet {
  return dhcp4Request({ xid, chaddr: mac, options: [messageTypeOption(type), ...options] });
}

describe('Dhcp4Server with acquireLease on loopback', () => {
  it('leases an address to ONIE with its class options: default URL (114) and installer URL (125)', async () => {
    const { address, server, events } = await startServer();
    const l = await lease(address, kvmIdentity.mac, onieDhcpClientOptions(kvmIdentity));
    expect(l.address).toBe('10.99.0.100');
    expect(l.serverId).toBe('127.0.0.1');
    expect(l.leaseSeconds).toBe(3600);
    expect(l.offer.yiaddr).toBe(l.address);
    const vars = onieDiscoVars(l.ack);
    expect(vars).toMatchObject({ ip: '10.99.0.100', url: 'http://127.0.0.1:8080/onie-installer', router: '10.99.0.1', serverid: '127.0.0.1' });
    const vivso = decodeVivso(getOption(l.ack, 125)!);
    expect(vivso.ok && vivso.value[0]!.subOptions.map((s) => [s.code, vivsoText(s.data)])).toEqual([[1, 'http://127.0.0.1:8080/sonic.bin']]);
    expect(getOption(l.ack, 150)).toBeUndefined();
    expect(server.stats).toMatchObject({ received: 2, offers: 1, acks: 1, naks: 0 });
    expect(events.map((e) => e.type)).toEqual(['dhcp.discover', 'dhcp.offer', 'dhcp.request', 'dhcp.ack']);
    expect(events[3]).toMatchObject({ className: 'onie', mac: kvmIdentity.mac, address: '10.99.0.100' });
  });

  it('gives two clients asking at the same time different addresses', async () => {
    const { address } = await startServer();
    const [a, b] = await Promise.all([
      lease(address, kvmIdentity.mac, onieDhcpClientOptions(kvmIdentity)),
      lease(address, accton.mac, onieDhcpClientOptions(accton)),
    ]);
    expect(new Set([a.address, b.address]).size).toBe(2);
  });

  it('gives a client the same address when it asks again', async () => {
    const { address } = await startServer();
    const first = await lease(address, kvmIdentity.mac, onieDhcpClientOptions(kvmIdentity));
    const again = await lease(address, kvmIdentity.mac, onieDhcpClientOptions(kvmIdentity), { random: new SeededRandom('again') });
    expect(again.address).toBe(first.address);
  });

  it('answers nothing when the pool is used up, reports it, and the client times out', async () => {
    const one = { start: '10.99.0.100', end: '10.99.0.100', subnetMask: '255.255.255.0', leaseSeconds: 3600 };
    const { address, server, on } = await startServer({ pool: one });
    await lease(address, kvmIdentity.mac, onieDhcpClientOptions(kvmIdentity));
    const exhausted = waitForEvent(on, (e) => e.type === 'dhcp.pool-exhausted');
    const second = lease(address, accton.mac, onieDhcpClientOptions(accton), { clock: impatientClock() });
    await expect(second).rejects.toBeInstanceOf(TimeoutError);
    expect(await exhausted).toMatchObject({ mac: accton.mac.toLowerCase() });
    expect(server.stats.offers).toBe(1);
  });

  it('counts and drops garbage, then answers the next valid request', async () => {
    const { address, server, on } = await startServer();
    const raw = await rawPeer();
    cleanups.push(() => raw.port.close());
    const dropped = waitForEvent(on, (e) => e.type === 'dhcp.dropped' && (e.detail ?? '').includes('magic cookie'));
    await raw.port.send(Uint8Array.of(1, 2, 3), address.address, address.port);
    const badCookie = encodeDhcp4(request(Dhcp4MessageType.DISCOVER, '02:00:00:00:00:01', []));
    badCookie[236] = 0;
    await raw.port.send(badCookie, address.address, address.port);
    await dropped;
    expect(server.stats.dropped).toEqual({ BL_DECODE_TRUNCATED: 1, BL_DECODE_MALFORMED: 1 });
    const l = await lease(address, kvmIdentity.mac, onieDhcpClientOptions(kvmIdentity));
    expect(l.address).toBe('10.99.0.100');
    expect(server.stats.received).toBe(4);
  });

  it('ignores a REQUEST that selects another server', async () => {
    const { address, server } = await startServer();
    const raw = await rawPeer();
    cleanups.push(() => raw.port.close());
    const mac = '02:00:00:00:00:05';
    await raw.port.send(encodeDhcp4(request(Dhcp4MessageType.DISCOVER, mac, [], 1)), address.address, address.port);
    const offer = (await raw.next()).packet;
    const toOther = request(Dhcp4MessageType.REQUEST, mac, [ipOption(50, offer.yiaddr), ipOption(54, '192.0.2.1')], 2);
    await raw.port.send(encodeDhcp4(toOther), address.address, address.port);
    // Loopback keeps order: an answer to the REQUEST would arrive before this OFFER.
    await raw.port.send(encodeDhcp4(request(Dhcp4MessageType.DISCOVER, mac, [], 3)), address.address, address.port);
    const next = await raw.next();
    expect(next.packet.xid).toBe(3);
    expect(messageType(next.packet)).toBe(Dhcp4MessageType.OFFER);
    expect(server.stats.dropped).toEqual({ 'other-server': 1 });
    expect(server.stats.acks + server.stats.naks).toBe(0);
  });

  it('NAKs a REQUEST for an address another client holds', async () => {
    const { address, server } = await startServer();
    const held = await lease(address, kvmIdentity.mac, onieDhcpClientOptions(kvmIdentity));
    const raw = await rawPeer();
    cleanups.push(() => raw.port.close());
    const mac = '02:00:00:00:00:06';
    await raw.port.send(encodeDhcp4(request(Dhcp4MessageType.REQUEST, mac, [ipOption(50, held.address), u8ListOption(55, [1, 3])])), address.address, address.port);
    const nak = (await raw.next()).packet;
    expect(messageType(nak)).toBe(Dhcp4MessageType.NAK);
    expect(nak.yiaddr).toBe('0.0.0.0');
    expect(server.stats.naks).toBe(1);
  });

  it('refuses a config with a bad address when constructed', () => {
    expect(() => new Dhcp4Server(baseConfig({ serverId: 'localhost' }))).toThrow(BootlabError);
    expect(() => new Dhcp4Server(baseConfig({ pool: { start: '10.0.0.1', end: '10.0.0.9', subnetMask: '255.255.255.0', leaseSeconds: 0 } }))).toThrow(
      /leaseSeconds/,
    );
  });

  it('stops cleanly and can be stopped twice', async () => {
    const { server } = await startServer();
    await server.stop();
    await server.stop();
  });
});
