import { describe, expect, it } from 'vitest';
import { Dhcp6BindingTable, type Dhcp6BindingTableConfig } from '../../../src/net/dhcp6/binding-table.js';

const table = (over: Partial<Dhcp6BindingTableConfig> = {}): Dhcp6BindingTable =>
  new Dhcp6BindingTable({ first: 0x100n, last: 0x102n, validMs: 10_000, advertiseHoldMs: 1000, maxBindings: 100, ...over });
const addr = (r: ReturnType<Dhcp6BindingTable['advertise']>): bigint | string => (r.ok ? r.address : r.reason);

describe('Dhcp6BindingTable', () => {
  it('keeps a client its address from ADVERTISE through REQUEST and RENEW', () => {
    const t = table();
    expect(addr(t.advertise('a', 0))).toBe(0x100n);
    expect(addr(t.advertise('b', 0))).toBe(0x101n);
    expect(addr(t.bind('a', 500))).toBe(0x100n);
    expect(addr(t.bind('a', 9000))).toBe(0x100n);
    expect(addr(t.advertise('a', 18_000))).toBe(0x100n);
  });

  it('12: forgets an advertised binding after the hold, and a bound one after the valid lifetime', () => {
    const t = table();
    t.advertise('flood', 0);
    t.bind('kept', 0);
    expect(t.size).toBe(2);
    expect(addr(t.advertise('late', 999))).toBe(0x102n);
    // The flood's address comes back to the next client; the bound one stays.
    expect(addr(t.advertise('next', 1000))).toBe(0x100n);
    expect(t.stats.expired).toBe(1);
    expect(addr(t.advertise('more', 1000))).toBe('pool-exhausted');
    // By 10 s every binding has run out: memory goes back to the one new client.
    expect(addr(t.advertise('more', 10_000))).toBe(0x102n);
    expect(t.size).toBe(1);
    expect(t.stats.expired).toBe(4);
  });

  it('12: refuses new clients past maxBindings until old ones expire', () => {
    const t = table({ last: 0xffff_ffffn, maxBindings: 3 });
    for (const c of ['a', 'b', 'c']) expect(t.advertise(c, 0).ok).toBe(true);
    expect(addr(t.advertise('d', 10))).toBe('bindings-full');
    expect(addr(t.bind('a', 10))).toBe(0x100n);
    expect(t.advertise('d', 1000).ok).toBe(true);
    expect(t.size).toBe(2);
  });

  it('12: refuses a SOLICIT on an exhausted pool of 65 536 with work that does not grow with the pool', () => {
    const t = table({ last: 0x100n + 0xffffn, maxBindings: 1 << 17, advertiseHoldMs: 60_000 });
    for (let i = 0; i < 0x10000; i++) expect(t.advertise(`flood-${i}`, 0).ok).toBe(true);
    const probed = t.stats.probed;
    for (let i = 0; i < 50; i++) expect(addr(t.advertise(`late-${i}`, 1000))).toBe('pool-exhausted');
    expect(t.stats.probed - probed).toBe(0);
    expect(addr(t.advertise('after', 60_000))).toBe(0x100n);
    expect(t.stats.probed - probed).toBe(1);
    expect(t.stats.expired).toBeLessThanOrEqual(64);
  });

  it('12: a pool full of advertises nobody requested takes back the oldest (once 5 s old) for a new client, never a bound one', () => {
    const t = table({ advertiseHoldMs: 60_000, validMs: 3_600_000 });
    expect(addr(t.advertise('flood-1', 0))).toBe(0x100n);
    expect(addr(t.advertise('flood-2', 1))).toBe(0x101n);
    expect(addr(t.bind('real', 2))).toBe(0x102n);
    expect(addr(t.advertise('new', 4_999))).toBe('pool-exhausted');
    expect(addr(t.advertise('new', 5_000))).toBe(0x100n);
    expect(addr(t.advertise('new-2', 5_001))).toBe(0x101n);
    // Only the bound client is left among the old ones: nothing more to take.
    expect(addr(t.advertise('new-3', 20_000))).toBe(0x100n);
    expect(addr(t.bind('new-2', 20_001))).toBe(0x101n);
    expect(addr(t.advertise('new-4', 30_000))).toBe(0x100n);
    expect(addr(t.advertise('new-5', 31_000))).toBe('pool-exhausted');
    expect(addr(t.bind('real', 31_000))).toBe(0x102n);
    expect(t.stats.advertisesTakenBack).toBe(4);
  });

  it('12: a table full of advertises makes room the same way', () => {
    const t = table({ last: 0xffff_ffffn, maxBindings: 2, advertiseHoldMs: 60_000, validMs: 3_600_000 });
    t.advertise('a', 0);
    t.bind('b', 0);
    expect(addr(t.advertise('c', 1000))).toBe('bindings-full');
    expect(addr(t.advertise('c', 5000))).toBe(0x102n);
    expect(t.size).toBe(2);
    expect(addr(t.advertise('d', 9000))).toBe('bindings-full');
    // c's advertise is taken back: its address goes to the free queue, d gets a never-used one.
    expect(addr(t.advertise('d', 10_000))).toBe(0x103n);
    expect(t.size).toBe(2);
    expect(t.stats.advertisesTakenBack).toBe(2);
  });
});
