import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { duidFromMac, onieDhcp6ClientOptions } from '../../../src/device/onie/dhcp6-client-options.js';
import { acquireLease6 } from '../../../src/net/dhcp6/client.js';
import { Dhcp6Server, type Dhcp6ServerConfig, type Dhcp6ServerEvent } from '../../../src/net/dhcp6/server.js';
import { Dhcp6MessageType, Dhcp6Option, getOption6, type Dhcp6Message } from '../../../src/protocol/dhcp6/message.js';
import { decodeIaNa, encodeIaNa } from '../../../src/protocol/dhcp6/options.js';
import { SeededRandom } from '../../../src/random.js';
import { kvmIdentity } from '../../device/onie/fixtures.js';

let server: Dhcp6Server | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function start(events: Dhcp6ServerEvent[] = []) {
  server = new Dhcp6Server(
    {
      bind: { address: '::1', port: 0 },
      pool: { start: '2001:db8:42::100', end: '2001:db8:42::1ff', preferredSeconds: 3600, validSeconds: 7200 },
      options: { dns: ['2001:db8:42::1'] },
      classes: [{ name: 'onie', match: { userClass: 'onie_dhcp_user_class', vendorEnterprise: 42623 }, options: { bootFileUrl: 'http://[2001:db8:42::1]/onie-installer' } }],
    },
    { onEvent: (e) => events.push(e) },
  );
  return server.start();
}

const lease = (port: number, mac: string, onie: boolean) => {
  const o = onieDhcp6ClientOptions({ ...kvmIdentity, mac });
  return acquireLease6({
    server: { address: '::1', port },
    duid: duidFromMac(mac),
    iaid: 1,
    options: onie ? o.options : [],
    request: o.request,
    attempts: 2,
    retryMs: 2000,
    clock: new SimulatedClock(),
    random: new SeededRandom(mac),
  });
};

describe('DHCPv6 server and client on ::1', () => {
  it('gives an ONIE switch an address and the boot file URL (option 59), and others only an address', async () => {
    const events: Dhcp6ServerEvent[] = [];
    const { port } = await start(events);
    const onie = await lease(port, '52:54:00:13:34:01', true);
    expect(onie.address).toBe('2001:db8:42::100');
    expect(onie.bootFileUrl).toBe('http://[2001:db8:42::1]/onie-installer');
    const other = await lease(port, '52:54:00:13:34:02', false);
    expect(other.address).toBe('2001:db8:42::101');
    expect(other.bootFileUrl).toBeUndefined();
    expect(events.filter((e) => e.type === 'dhcp6.reply').map((e) => e.className)).toEqual(['onie', undefined]);
    // The same DUID keeps its address.
    expect((await lease(port, '52:54:00:13:34:01', true)).address).toBe('2001:db8:42::100');
  });

  it('counts a datagram that does not decode and keeps serving', async () => {
    const { port } = await start();
    const { createSocket } = await import('node:dgram');
    const s = createSocket('udp6');
    await new Promise<void>((r) => s.send(Buffer.from([1, 2]), port, '::1', () => r()));
    s.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(server!.stats.dropped['BL_DECODE_TRUNCATED']).toBe(1);
    expect((await lease(port, '52:54:00:13:34:03', true)).address).toBe('2001:db8:42::100');
  });
});

describe('12: DHCPv6 bindings on a hostile network (injected clock)', () => {
  const message = (type: number, duid: string, serverId?: Uint8Array): Dhcp6Message => ({
    type,
    transactionId: 1,
    options: [
      { code: Dhcp6Option.CLIENTID, data: Uint8Array.from(Buffer.from(duid, 'hex')) },
      ...(serverId ? [{ code: Dhcp6Option.SERVERID, data: serverId }] : []),
      { code: Dhcp6Option.IA_NA, data: encodeIaNa({ iaid: 1, t1: 0, t2: 0, addresses: [], options: [] }) },
    ],
  });
  const addressIn = (m: Dhcp6Message | undefined): string | undefined => {
    const ia = m && getOption6(m, Dhcp6Option.IA_NA);
    const d = ia ? decodeIaNa(ia) : undefined;
    return d?.ok ? d.value.addresses[0]?.address : undefined;
  };
  const duid = (i: number): string => `00030001${i.toString(16).padStart(12, '0')}`;
  const serverWith = (pool: Partial<Dhcp6ServerConfig['pool']>, clock: { now: number }, events: Dhcp6ServerEvent[] = []): Dhcp6Server =>
    new Dhcp6Server(
      { bind: { address: '::1', port: 0 }, pool: { start: '2001:db8::100', end: '2001:db8::1:0', preferredSeconds: 3600, validSeconds: 7200, ...pool } },
      { now: () => clock.now, onEvent: (e) => events.push(e) },
    );

  it('holds an advertised address only briefly and keeps at most maxBindings, counting the refusals', () => {
    const clock = { now: 0 };
    const events: Dhcp6ServerEvent[] = [];
    const s = serverWith({ advertiseHoldSeconds: 30, maxBindings: 100 }, clock, events);
    const answered = Array.from({ length: 300 }, (_, i) => s.answer(message(Dhcp6MessageType.SOLICIT, duid(i)))).filter(Boolean).length;
    expect(answered).toBe(100);
    expect(s.bindingCount).toBe(100);
    expect(s.stats.dropped['bindings-full']).toBe(200);
    expect(events.filter((e) => e.type === 'dhcp6.pool-exhausted')).toHaveLength(200);
    clock.now = 30_000;
    const late = s.answer(message(Dhcp6MessageType.SOLICIT, duid(1000)));
    expect(addressIn(late)).toBeDefined();
    expect(s.bindingStats.expired).toBeGreaterThan(0);
    expect(s.bindingCount).toBeLessThanOrEqual(100);
  });

  it('forgets a bound address after its valid lifetime, and a RENEW extends it', () => {
    const clock = { now: 0 };
    const s = serverWith({ end: '2001:db8::101', validSeconds: 100 }, clock);
    const first = s.answer(message(Dhcp6MessageType.REQUEST, duid(1)));
    const serverId = getOption6(first!, Dhcp6Option.SERVERID)!;
    expect(addressIn(first)).toBe('2001:db8::100');
    expect(addressIn(s.answer(message(Dhcp6MessageType.REQUEST, duid(2))))).toBe('2001:db8::101');
    clock.now = 60_000;
    expect(addressIn(s.answer(message(Dhcp6MessageType.RENEW, duid(1), serverId)))).toBe('2001:db8::100');
    expect(s.answer(message(Dhcp6MessageType.SOLICIT, duid(3)))).toBeUndefined();
    expect(s.stats.dropped['pool-exhausted']).toBe(1);
    clock.now = 100_000;
    // duid 2 never renewed: its address goes to the newcomer; duid 1's renewal holds to 160 s.
    expect(addressIn(s.answer(message(Dhcp6MessageType.SOLICIT, duid(3))))).toBe('2001:db8::101');
    expect(s.answer(message(Dhcp6MessageType.SOLICIT, duid(4)))).toBeUndefined();
    clock.now = 160_000;
    expect(addressIn(s.answer(message(Dhcp6MessageType.SOLICIT, duid(4))))).toBe('2001:db8::100');
  });

  it('drops a SOLICIT whose IA_NA does not decode, naming the absolute offset, and holds no address for it', () => {
    const clock = { now: 0 };
    const events: Dhcp6ServerEvent[] = [];
    const s = serverWith({}, clock, events);
    const m = message(Dhcp6MessageType.SOLICIT, duid(1));
    // client id (4 + 10 bytes) at 4, IA_NA at 18: its data starts at 22, T1 at 26.
    m.options[1] = { code: Dhcp6Option.IA_NA, data: Uint8Array.of(0, 0, 0, 7, 0, 0) };
    expect(s.answer(m)).toBeUndefined();
    expect(s.stats.dropped['BL_DECODE_TRUNCATED']).toBe(1);
    expect(events.find((e) => e.type === 'dhcp6.dropped')?.detail).toMatch(/IA_NA\.T1 at offset 26/);
    expect(s.bindingCount).toBe(0);
  });

  it('refuses a bad binding budget in the config', () => {
    expect(() => serverWith({ maxBindings: 0 }, { now: 0 })).toThrow(/maxBindings/);
  });
});

describe('Dhcp6Server multicast (issue 13)', () => {
  const config = (multicastInterfaces: string[]): Dhcp6ServerConfig => ({
    bind: { address: '::', port: 0 },
    multicastInterfaces,
    pool: { start: '2001:db8:42::100', end: '2001:db8:42::1ff', preferredSeconds: 3600, validSeconds: 7200 },
  });

  it('13: joins ff02::1:2 on each interface it is given', async () => {
    server = new Dhcp6Server(config(['lo']));
    expect((await server.start()).groups).toEqual(['ff02::1:2%lo']);
  });

  it('names an interface that is not there in one line, and holds no socket', async () => {
    server = new Dhcp6Server(config(['nosuch0']));
    await expect(server.start()).rejects.toThrow('DHCPv6: no interface nosuch0 to join ff02::1:2 on');
    await expect(new Dhcp6Server(config(['../../etc'])).start()).rejects.toThrow("DHCPv6: '../../etc' is not an interface name");
  });
});
