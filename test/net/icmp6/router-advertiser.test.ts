import { SimulatedClock } from 'xstate';
import { describe, expect, it } from 'vitest';
import { RouterAdvertiser, type RouterAdvertiserConfig } from '../../../src/net/icmp6/router-advertiser.js';
import type { Icmp6From, Icmp6Port, RawIcmp6Options } from '../../../src/net/icmp6/raw-icmp6-port.js';
import { decodeRouterAdvert, encodeRouterSolicit, prefixesOf } from '../../../src/protocol/icmp6/router-advert.js';
import { SeededRandom } from '../../../src/random.js';

/** A fake raw port: records what is sent, lets the test deliver solicitations. */
function fakePort() {
  const sent: Array<{ at: number; bytes: Uint8Array; to: string }> = [];
  let deliver: ((b: Uint8Array, f: Icmp6From) => void) | undefined;
  let opened: RawIcmp6Options | undefined;
  let closed = false;
  const clock = new SimulatedClock();
  const port: Icmp6Port = {
    send: (bytes, to) => void sent.push({ at: clock.now(), bytes, to }),
    onMessage: (fn) => {
      deliver = fn;
      return () => (deliver = undefined);
    },
    onProblem: () => undefined,
    close: async () => void (closed = true),
  };
  return {
    clock,
    sent,
    opened: () => opened,
    closed: () => closed,
    deliver: (b: Uint8Array, f: Icmp6From) => deliver?.(b, f),
    openPort: async (o: RawIcmp6Options) => ((opened = o), port),
  };
}

const config: RouterAdvertiserConfig = { interface: 'br0', prefixes: [{ prefix: '2001:db8:1::', length: 64 }], managed: true, other: true, maxIntervalMs: 30_000 };

function start(c: Partial<RouterAdvertiserConfig> = {}) {
  const f = fakePort();
  const events: string[] = [];
  const ra = new RouterAdvertiser({ ...config, ...c }, { openPort: f.openPort, clock: f.clock, now: () => f.clock.now(), random: new SeededRandom(7), onEvent: (e) => events.push(e.type) });
  return { f, ra, events };
}

describe('RouterAdvertiser', () => {
  it('13: advertises the prefix with L/A and the M and O flags to ff02::1 as soon as it starts', async () => {
    const { f, ra } = start();
    await ra.start();
    expect(f.opened()).toEqual({ interface: 'br0', accept: [133], join: ['ff02::2'] });
    expect(f.sent).toHaveLength(1);
    expect(f.sent[0]!.to).toBe('ff02::1');
    const d = decodeRouterAdvert(f.sent[0]!.bytes);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.value).toMatchObject({ managed: true, other: true, routerLifetimeSeconds: 0 });
    expect(prefixesOf(d.value)).toEqual([{ kind: 'prefix', prefix: '2001:db8:1::', length: 64, onLink: true, autonomous: true, validSeconds: 86400, preferredSeconds: 14400 }]);
    await ra.stop();
  });

  it('sends unsolicited advertisements between MinRtrAdvInterval and MaxRtrAdvInterval', async () => {
    const { f, ra } = start({ maxIntervalMs: 30_000 });
    await ra.start();
    for (let i = 0; i < 300; i++) f.clock.increment(1000);
    await ra.stop();
    const gaps = f.sent.slice(1).map((s, i) => s.at - f.sent[i]!.at);
    expect(gaps.length).toBeGreaterThanOrEqual(10);
    expect(new Set(gaps).size).toBeGreaterThan(5);
    // Default minimum: 0.33 × 30 s.
    for (const g of gaps) expect(g >= 9000 && g <= 30_000).toBe(true);
  });

  it('spaces the first three advertisements at most 16 s apart', async () => {
    const { f, ra } = start({ maxIntervalMs: 600_000, minIntervalMs: 400_000 });
    await ra.start();
    for (let i = 0; i < 60; i++) f.clock.increment(1000);
    await ra.stop();
    expect(f.sent.slice(0, 3).map((s) => s.at)).toEqual([0, 16_000, 32_000]);
    expect(f.sent).toHaveLength(4);
  });

  it('answers a router solicitation within 0.5 s once 3 s have passed since the last advertisement', async () => {
    const { f, ra, events } = start();
    await ra.start();
    f.clock.increment(5000);
    f.deliver(encodeRouterSolicit({ options: [{ kind: 'source-link-layer', address: '52:54:00:12:34:56' }] }), { address: 'fe80::5054:ff:fe12:3456', hopLimit: 255 });
    f.clock.increment(500);
    expect(f.sent).toHaveLength(2);
    expect(f.sent[1]!.at - 5000).toBeLessThanOrEqual(500);
    expect(events).toContain('ra.solicit');
    // A burst right after: one more advertisement, not sooner than 3 s after the last.
    const at = f.sent[1]!.at;
    for (let i = 0; i < 50; i++) f.deliver(encodeRouterSolicit({ options: [] }), { address: 'fe80::1', hopLimit: 255 });
    for (let i = 0; i < 40; i++) f.clock.increment(100);
    expect(f.sent).toHaveLength(3);
    expect(f.sent[2]!.at - at).toBe(3000);
    await ra.stop();
  });

  it('drops solicitations that crossed a router or do not decode, and counts them', async () => {
    const { f, ra } = start();
    await ra.start();
    f.clock.increment(5000);
    f.deliver(encodeRouterSolicit({ options: [] }), { address: 'fe80::1', hopLimit: 64 });
    f.deliver(Uint8Array.from([133, 0, 0, 0, 0, 0]), { address: 'fe80::1', hopLimit: 255 });
    f.deliver(encodeRouterSolicit({ options: [{ kind: 'source-link-layer', address: '52:54:00:12:34:56' }] }), { address: '::', hopLimit: 255 });
    f.clock.increment(1000);
    expect(f.sent).toHaveLength(1);
    expect(ra.stats.dropped).toEqual({ 'hop-limit': 1, BL_DECODE_TRUNCATED: 1, malformed: 1 });
    await ra.stop();
  });

  it('withdraws itself as a default router when it stops (router lifetime 0)', async () => {
    const { f, ra } = start({ routerLifetimeSeconds: 1800 });
    await ra.start();
    await ra.stop();
    expect(f.closed()).toBe(true);
    const last = decodeRouterAdvert(f.sent.at(-1)!.bytes);
    expect(last.ok && last.value.routerLifetimeSeconds).toBe(0);
    expect(f.sent).toHaveLength(2);
    f.clock.increment(60_000);
    expect(f.sent).toHaveLength(2);
  });

  it('refuses intervals, lifetimes and prefixes RFC 4861 does not allow, in one line', () => {
    const make = (c: Partial<RouterAdvertiserConfig>) => () => new RouterAdvertiser({ ...config, ...c }, { random: new SeededRandom(1) });
    expect(make({ maxIntervalMs: 2000 })).toThrow(/interval 2 s is not 4 s to 1800 s/);
    expect(make({ minIntervalMs: 29_000 })).toThrow(/minimum interval/);
    expect(make({ routerLifetimeSeconds: 10 })).toThrow(/router lifetime 10 s/);
    expect(make({ prefixes: [{ prefix: '2001:db8::', length: 48 }] })).toThrow(/from a \/64 only/);
    expect(make({ prefixes: [{ prefix: '2001:db8::', length: 48, autonomous: false }] })).not.toThrow();
    expect(make({ prefixes: [] })).toThrow(/no prefix/);
    expect(make({ prefixes: [{ prefix: '2001:db8::', length: 64, validSeconds: 600 }] })).toThrow(/preferred lifetime 14400 s is longer than the valid lifetime 600 s/);
  });
});
