import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { interfaceIpv4, systemInterfaceLookup, tableLookup, type InterfaceLookup, type InterfaceState } from '../../src/net/interface-address.js';

/** Fires every timer at once and counts the time it stood for. */
function instantClock(): Clock & { elapsed: number } {
  const c = {
    elapsed: 0,
    setTimeout(fn: () => void, ms: number) {
      c.elapsed += ms;
      queueMicrotask(fn);
      return 0;
    },
    clearTimeout() {},
  };
  return c;
}

/** An interface whose states are read one per look, the last one repeating. */
function changing(name: string, states: Array<InterfaceState | undefined>): InterfaceLookup & { seen: { looks: number } } {
  const seen = { looks: 0 };
  const find = async (n: string) => (n === name ? states[Math.min(seen.looks++, states.length - 1)] : undefined);
  return Object.assign(find, { names: async () => ['lo', name], seen });
}

describe('interfaceIpv4', () => {
  it('takes the first IPv4 address of an interface that has one, without waiting', async () => {
    const waits: string[] = [];
    const lookup = changing('br0', [{ ipv4: ['10.97.0.1', '10.97.0.2'] }]);
    expect(await interfaceIpv4('br0', lookup, { waitMs: 30_000, clock: instantClock(), onWait: (m) => waits.push(m) })).toBe('10.97.0.1');
    expect(waits).toEqual([]);
  });

  it('waits for an address on an interface that exists, saying so once, and takes it when it comes', async () => {
    const waits: string[] = [];
    const clock = instantClock();
    const lookup = changing('br0', [{ ipv4: [] }, { ipv4: [] }, { ipv4: [] }, { ipv4: ['10.97.0.1'] }]);
    expect(await interfaceIpv4('br0', lookup, { waitMs: 30_000, pollMs: 500, clock, onWait: (m) => waits.push(m) })).toBe('10.97.0.1');
    expect(waits).toEqual(['--interface br0: no IPv4 address yet, waiting up to 30s for one']);
    expect(clock.elapsed).toBe(1500);
  });

  it('gives up after the bounded wait with one line naming the interface', async () => {
    const clock = instantClock();
    const lookup = changing('br0', [{ ipv4: [] }]);
    await expect(interfaceIpv4('br0', lookup, { waitMs: 2000, pollMs: 500, clock })).rejects.toThrow(
      /^--interface br0: it has no IPv4 address to serve from after waiting 2s \(add one, e\.g\. ip addr add 10\.0\.0\.1\/24 dev br0, or give --server-id\)$/,
    );
    expect(clock.elapsed).toBe(2000);
    expect(lookup.seen.looks).toBe(5);
  });

  it('does not wait when told not to, and does not wait for an interface that does not exist', async () => {
    const clock = instantClock();
    await expect(interfaceIpv4('br0', changing('br0', [{ ipv4: [] }]), { waitMs: 0, clock })).rejects.toThrow(/^--interface br0: it has no IPv4 address to serve from \(/);
    await expect(interfaceIpv4('br9', changing('br0', [{ ipv4: [] }]), { waitMs: 30_000, clock })).rejects.toThrow(/^--interface br9: no such interface \(have: lo, br0\)$/);
    expect(clock.elapsed).toBe(0);
  });

  it('says so when the interface goes away during the wait', async () => {
    const lookup = changing('br0', [{ ipv4: [] }, undefined]);
    await expect(interfaceIpv4('br0', lookup, { waitMs: 5000, clock: instantClock() })).rejects.toThrow(/br0: the interface went away/);
  });

  it('reads a table as os.networkInterfaces() returns it', async () => {
    const table = { eth0: [{ address: 'fe80::1', family: 'IPv6' }, { address: '10.0.0.5', family: 'IPv4' }] } as unknown as Parameters<typeof tableLookup>[0] extends () => infer T ? T : never;
    const lookup = tableLookup(() => table);
    expect(await lookup('eth0')).toEqual({ ipv4: ['10.0.0.5'] });
    expect(await lookup('eth1')).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')('finds loopback on Linux through /sys/class/net, and no interface for a path-like name', async () => {
    const lookup = systemInterfaceLookup();
    expect((await lookup('lo'))?.ipv4).toContain('127.0.0.1');
    expect(await lookup('../lo')).toBeUndefined();
    expect(await lookup('no-such-if0')).toBeUndefined();
    expect(await lookup.names!()).toContain('lo');
  });
});
