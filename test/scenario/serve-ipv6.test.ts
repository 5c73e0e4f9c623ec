import type { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { planServe } from '../../src/scenario/serve-config.js';

/** A bridge with a MAC and an IPv6 link-local address, and loopback. */
const interfaces = {
  br0: [{ address: 'fe80::1', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '02:00:00:00:00:01', internal: false, cidr: 'fe80::1/64', scopeid: 3 }],
  lo: [{ address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', mac: '00:00:00:00:00:00', internal: true, cidr: '::1/128', scopeid: 0 }],
} as ReturnType<typeof networkInterfaces>;

const ra = { interface: 'br0', raPrefix: ['2001:db8:1::/64'] };

describe('serve IPv6 lab flags (issue 13)', () => {
  it('13: plans router advertisements with the prefix, M and O, the interval and the interface MAC', async () => {
    const plan = await planServe({ ...ra, raManaged: true, raOther: true, raInterval: '30s' }, interfaces);
    expect(plan.ra).toEqual({
      interface: 'br0',
      prefixes: [{ prefix: '2001:db8:1::', length: 64, autonomous: true }],
      managed: true,
      other: true,
      maxIntervalMs: 30_000,
      routerLifetimeSeconds: 0,
      sourceLinkLayer: '02:00:00:00:00:01',
    });
    // An IPv6 lab serves HTTP and TFTP on IPv6 without being asked.
    expect(plan.bind6).toBe('::');
  });

  it('defaults to a 60 s interval, no M/O, and not a default router', async () => {
    const plan = await planServe(ra, interfaces);
    expect(plan.ra).toMatchObject({ managed: false, other: false, maxIntervalMs: 60_000, routerLifetimeSeconds: 0 });
  });

  it('13: DHCPv6 joins ff02::1:2 on --interface, or on every IPv6 interface but loopback', async () => {
    const range = { dhcp6Range: '2001:db8:1::100-2001:db8:1::1ff' };
    expect((await planServe({ ...range, interface: 'br0' }, interfaces)).dhcp6?.multicastInterfaces).toEqual(['br0']);
    expect((await planServe(range, interfaces)).dhcp6?.multicastInterfaces).toEqual(['br0']);
    expect((await planServe(range, interfaces)).bind6).toBe('::');
  });

  it('takes --bind6 as given, and no IPv6 listener for an IPv4-only lab', async () => {
    expect((await planServe({ httpRoot: '/tmp', bind6: '::1' }, interfaces)).bind6).toBe('::1');
    expect((await planServe({ httpRoot: '/tmp' }, interfaces)).bind6).toBeUndefined();
  });

  it('refuses bad IPv6 flags in one line naming the flag', async () => {
    const bad = async (flags: Parameters<typeof planServe>[0], message: RegExp | string) => expect(planServe(flags, interfaces)).rejects.toThrow(message);
    await bad({ raPrefix: ['2001:db8:1::/64'] }, '--ra-prefix needs --interface: router advertisements go out on one link');
    await bad({ interface: 'br0', raPrefix: ['2001:db8:1::5/64'] }, '--ra-prefix 2001:db8:1::5/64: has bits set past /64 (did you mean 2001:db8:1::/64?)');
    await bad({ interface: 'br0', raPrefix: ['2001:db8:1::'] }, /--ra-prefix 2001:db8:1::: expected PREFIX\/LENGTH/);
    await bad({ ...ra, raInterval: '2s' }, '--ra-interval 2s: must be 4 s to 1800 s (RFC 4861 MaxRtrAdvInterval)');
    await bad({ ...ra, raInterval: 'soon' }, /--ra-interval soon: expected seconds or a duration/);
    await bad({ ...ra, raRouterLifetime: '10' }, /--ra-router-lifetime 10: must be 0 or from the interval \(60 s\) to 9000 s/);
    await bad({ interface: 'br0', raManaged: true, httpRoot: '/tmp' }, '--ra-managed without --ra-prefix: router advertisements start only with a prefix to advertise');
    await bad({ httpRoot: '/tmp', bind6: '10.0.0.1' }, /--bind6 10.0.0.1: expected an IPv6 address/);
  });

  it('advertises a prefix other than /64 on-link only (no SLAAC)', async () => {
    const plan = await planServe({ interface: 'br0', raPrefix: ['2001:db8:1::/48'], raManaged: true }, interfaces);
    expect(plan.ra?.prefixes).toEqual([{ prefix: '2001:db8:1::', length: 48, autonomous: false }]);
  });
});
