import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { duidFromMac, onieDhcp6ClientOptions } from '../../../src/device/onie/dhcp6-client-options.js';
import { acquireLease6 } from '../../../src/net/dhcp6/client.js';
import { Dhcp6Server, type Dhcp6ServerEvent } from '../../../src/net/dhcp6/server.js';
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
