import { describe, expect, it } from 'vitest';
import { LeasePool } from '../../../src/net/dhcp4/lease-pool.js';

const pool = (over: Partial<ConstructorParameters<typeof LeasePool>[0]> = {}): LeasePool =>
  new LeasePool({ start: '10.0.0.10', end: '10.0.0.12', leaseSeconds: 60, offerHoldMs: 1000, ...over });

describe('LeasePool', () => {
  it('offers each client its own address and the same one again', () => {
    const p = pool();
    expect(p.offer('a', 0)).toBe('10.0.0.10');
    expect(p.offer('b', 0)).toBe('10.0.0.11');
    expect(p.offer('a', 10)).toBe('10.0.0.10');
  });

  it('honours a requested address when it is free', () => {
    expect(pool().offer('a', 0, '10.0.0.12')).toBe('10.0.0.12');
    expect(pool().offer('a', 0, '10.0.0.99')).toBe('10.0.0.10');
  });

  it('runs out when every address is held, and frees offers that time out', () => {
    const p = pool({ end: '10.0.0.10' });
    expect(p.offer('a', 0)).toBe('10.0.0.10');
    expect(p.offer('b', 500)).toBeUndefined();
    expect(p.offer('b', 1000)).toBe('10.0.0.10');
    expect(p.commit('a', '10.0.0.10', 1000)).toBe(false);
  });

  it('binds an offered address to its client only', () => {
    const p = pool();
    p.offer('a', 0);
    expect(p.commit('b', '10.0.0.10', 0)).toBe(false);
    expect(p.commit('a', '10.0.0.10', 0)).toBe(true);
    expect(p.leaseSecondsLeft('a', 30_000)).toBe(30);
    expect(p.commit('a', '10.0.0.50', 0)).toBe(false);
  });

  it('keeps a bound address through the lease and frees it on release', () => {
    const p = pool({ end: '10.0.0.10' });
    p.offer('a', 0);
    p.commit('a', '10.0.0.10', 0);
    expect(p.offer('b', 30_000)).toBeUndefined();
    expect(p.release('a', '10.0.0.10')).toBe(true);
    expect(p.offer('b', 30_000)).toBe('10.0.0.10');
  });

  it('withdraws an offer the client declined by choosing another server', () => {
    const p = pool({ end: '10.0.0.10' });
    p.offer('a', 0);
    p.withdrawOffer('a');
    expect(p.offer('b', 1)).toBe('10.0.0.10');
  });

  it('keeps a declined address out of use and skips excluded ones', () => {
    const p = pool({ exclude: ['10.0.0.10'] });
    expect(p.size).toBe(2);
    expect(p.offer('a', 0)).toBe('10.0.0.11');
    p.decline('a', '10.0.0.11', 0);
    expect(p.offer('a', 1)).toBe('10.0.0.12');
  });

  it('refuses a range that runs backwards', () => {
    expect(() => pool({ start: '10.0.0.20' })).toThrow(/after pool.end/);
  });

  it('gives a returning client its expired address back while nobody else took it', () => {
    const p = pool();
    expect(p.offer('a', 0)).toBe('10.0.0.10');
    expect(p.commit('a', '10.0.0.10', 0)).toBe(true);
    expect(p.offer('b', 61_000)).toBe('10.0.0.11');
    expect(p.offer('a', 61_000)).toBe('10.0.0.10');
  });

  it('hands out never-used addresses first, then the one free the longest', () => {
    const p = pool();
    for (const c of ['a', 'b', 'c']) p.offer(c, 0);
    p.release('b', '10.0.0.11');
    p.release('a', '10.0.0.10');
    expect(p.offer('d', 1)).toBe('10.0.0.11');
    expect(p.offer('e', 1)).toBe('10.0.0.10');
    expect(p.offer('f', 1)).toBeUndefined();
  });

  it('brings a declined address back once its hold ends', () => {
    const p = pool({ end: '10.0.0.10' });
    p.offer('a', 0);
    p.decline('a', '10.0.0.10', 0);
    expect(p.offer('b', 5 * 60_000)).toBeUndefined();
    expect(p.offer('b', 10 * 60_000)).toBe('10.0.0.10');
  });

  it('skips an address a restored lease holds, and frees it when that lease ends', () => {
    const p = pool({ end: '10.0.0.11' });
    expect(p.restore('old', '10.0.0.10', 5000, 0)).toBe(true);
    expect(p.offer('a', 0)).toBe('10.0.0.11');
    expect(p.commit('a', '10.0.0.11', 0)).toBe(true);
    expect(p.offer('b', 0)).toBeUndefined();
    expect(p.offer('b', 5000)).toBe('10.0.0.10');
  });

  it('12: a /16 full of held offers refuses young ones at once and takes back the oldest, with work that does not grow with the pool', () => {
    const p = new LeasePool({ start: '10.1.0.1', end: '10.1.255.254', leaseSeconds: 3600, offerHoldMs: 60_000 });
    for (let i = 0; i < p.size; i++) expect(p.offer(`flood-${i}`, 0)).toBeDefined();
    const before = { ...p.stats };
    // Every offer is younger than 5 s: nothing may be taken back yet, and nothing is scanned.
    for (let i = 0; i < 50; i++) expect(p.offer(`early-${i}`, 1000 + i)).toBeUndefined();
    expect(p.stats.probed - before.probed).toBe(0);
    expect(p.stats.reclaimed - before.reclaimed).toBe(0);
    // Then each new client gets the oldest unrequested offer's address, at O(1) cost.
    for (let i = 0; i < 50; i++) expect(p.offer(`late-${i}`, 5_000 + i)).toBe(`10.1.0.${i + 1}`);
    expect(p.stats.offersTakenBack - before.offersTakenBack).toBe(50);
    expect(p.stats.probed - before.probed).toBe(0);
    // The client whose offer was taken cannot REQUEST it; its own next DISCOVER gets another one.
    expect(p.commit('flood-0', '10.1.0.1', 5_100)).toBe(false);
    expect(p.commit('late-0', '10.1.0.1', 5_100)).toBe(true);
    expect(p.offer('flood-0', 5_200)).toBe('10.1.0.51');
    // Once the holds run out, each new client costs a bounded handful of expiries, not a scan.
    const expired = { ...p.stats };
    expect(p.offer('after', 60_000)).toBeDefined();
    expect(p.stats.probed - expired.probed).toBe(1);
    expect(p.stats.reclaimed - expired.reclaimed).toBeLessThanOrEqual(64);
  });

  it('12: never takes back a lease, a reservation or an offer that was requested', () => {
    const p = new LeasePool({ start: '10.2.0.1', end: '10.2.0.3', leaseSeconds: 3600, offerHoldMs: 60_000, reserved: ['10.2.0.9'] });
    expect(p.offer('a', 0)).toBe('10.2.0.1');
    expect(p.commit('a', '10.2.0.1', 10)).toBe(true);
    expect(p.offer('b', 0)).toBe('10.2.0.2');
    expect(p.commit('b', '10.2.0.2', 10)).toBe(true);
    expect(p.offer('c', 0)).toBe('10.2.0.3');
    expect(p.offer('r', 0, undefined, '10.2.0.9')).toBe('10.2.0.9');
    // Only c's offer is unrequested: taken once old enough, then nothing is left to take.
    expect(p.offer('d', 4_999)).toBeUndefined();
    expect(p.offer('d', 5_000)).toBe('10.2.0.3');
    expect(p.commit('d', '10.2.0.3', 5_010)).toBe(true);
    expect(p.offer('e', 30_000)).toBeUndefined();
    expect(p.leaseSecondsLeft('a', 30_000)).toBeGreaterThan(0);
  });
});
