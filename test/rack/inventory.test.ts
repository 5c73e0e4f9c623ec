import { describe, expect, it } from 'vitest';
import { Inventory } from '../../src/rack/inventory.js';
import { decideGate } from '../../src/rack/gate.js';
import { cablingPlanOf, heardOnSwitches } from '../../src/rack/lldp-fabric.js';
import { checkCabling } from '../../src/rack/cabling.js';
import { resolveRackPlan } from '../../src/rack/plan.js';
import { rackSchema } from '../../src/scenario/rack-schema.js';

const inv = new Inventory([
  { rack: 'r1', position: 'U1', circuitId: 'm:1', serial: 'S1', mac: 'aa:00:00:00:00:01' },
  { rack: 'r1', position: 'U2', circuitId: 'm:2', serial: 'S2', mac: 'aa:00:00:00:00:02' },
]);

describe('inventory admission', () => {
  it('admits a device only at its own port with its own serial and MAC, and names every other case', () => {
    const v = (circuitId: string | undefined, mac: string, serial: string | undefined) => inv.check({ rack: 'r1', circuitId, mac, serial }).verdict;
    expect(v('m:1', 'AA:00:00:00:00:01', 'S1')).toBe('admitted');
    expect(v('m:1', 'aa:00:00:00:00:01', 'S9')).toBe('serial-mismatch');
    expect(v('m:1', 'aa:00:00:00:00:09', 'S1')).toBe('mac-mismatch');
    expect(v('m:1', 'aa:00:00:00:00:02', 'S2')).toBe('wrong-position');
    expect(v('m:1', 'aa:00:00:00:00:09', 'S9')).toBe('unknown-device');
    expect(v('m:7', 'aa:00:00:00:00:01', 'S1')).toBe('unknown-port');
    expect(v(undefined, 'aa:00:00:00:00:01', 'S1')).toBe('unknown-port');
    expect(inv.check({ rack: 'r2', circuitId: 'm:1', mac: 'aa:00:00:00:00:01', serial: 'S1' }).verdict).toBe('unknown-port');
  });
});

describe('wave gates', () => {
  it('checks each threshold it sets against the wave tally', () => {
    const t = { devices: 10, installed: 9, attested: 8, links: 20, linksOk: 20 };
    expect(decideGate({ installRate: 0.9, cablingClean: true }, t).ok).toBe(true);
    expect(decideGate({ installRate: 1, cablingClean: true }, t).checks.find((c) => !c.ok)?.what).toBe('install-rate');
    expect(decideGate({ installRate: 0.5, attestRate: 0.9, cablingClean: true }, t).checks.find((c) => !c.ok)?.what).toBe('attest-rate');
    expect(decideGate({ installRate: 0.5, cablingClean: true }, { ...t, linksOk: 19 }).ok).toBe(false);
    expect(decideGate({ installRate: 0.5, cablingClean: false }, { ...t, linksOk: 0 }).ok).toBe(true);
  });
});

describe('LLDP over the planned cables', () => {
  const rack = (name: string, tor: string, devices: [string, string]) =>
    rackSchema.parse({
      name,
      subnet: name === 'r1' ? '10.0.1.0/24' : '10.0.2.0/24',
      positions: devices.map((d, i) => ({ position: `U${i + 1}`, device: d, mgmt: `${name}-m:${i + 1}`, uplinks: { Ethernet0: `${tor}:Ethernet${2 * i + 1}`, Ethernet4: `${tor}:Ethernet${2 * i + 2}` } })),
    });
  const racks = [rack('r1', 't1', ['a', 'b']), rack('r2', 't2', ['c', 'd'])];
  const ids = new Set(['a', 'b', 'c', 'd']);
  const plan = resolveRackPlan(racks, ids, (id) => ({ serial: id, mac: `52:54:00:00:00:0${'abcd'.indexOf(id) + 1}` }), (p, m) => {
    throw new Error(`${p.join('.')}: ${m}`);
  });
  const installed = new Map([...ids].map((id) => [id, { id, mac: `52:54:00:00:00:0${'abcd'.indexOf(id) + 1}` }]));
  const kinds = (swaps: Array<[string, string]>, up = installed) =>
    Object.fromEntries(checkCabling(cablingPlanOf(plan.uplinks, plan.placements), heardOnSwitches(plan.uplinks, swaps, up)).filter((f) => f.kind !== 'ok').map((f) => [`${f.device}:${f.port}`, f.kind]));

  it('hears every planned link when the cables are as planned, and reserves an address per position', () => {
    expect(kinds([])).toEqual({});
    expect(plan.racks[0]!.reservations.map((r) => r.address)).toEqual(['10.0.1.2', '10.0.1.3']);
  });
  it('reports a crossed pair on one switch as a cable swap, a cable moved across racks as a swapped rack, and a silent device as missing links', () => {
    expect(kinds([['t1:Ethernet1', 't1:Ethernet2']])).toEqual({ 't1:Ethernet1': 'cable-swap', 't1:Ethernet2': 'cable-swap' });
    expect(kinds([['t1:Ethernet1', 't2:Ethernet1']])).toEqual({ 't1:Ethernet1': 'swapped-rack', 't2:Ethernet1': 'swapped-rack' });
    expect(kinds([['t1:Ethernet1', 't2:Ethernet4']])).toEqual({ 't1:Ethernet1': 'wrong-partner', 't2:Ethernet4': 'wrong-partner' });
    const withoutB = new Map([...installed].filter(([id]) => id !== 'b'));
    expect(kinds([], withoutB)).toEqual({ 't1:Ethernet3': 'missing-link', 't1:Ethernet4': 'missing-link' });
  });
  it('refuses a plan that places a device twice or reuses a switch port', () => {
    const fail = (p: (string | number)[], m: string): never => {
      throw new Error(`${p.join('.')}: ${m}`);
    };
    const twice = rackSchema.parse({ name: 'r3', subnet: '10.0.3.0/24', positions: [{ position: 'U1', device: 'a', mgmt: 'x:1' }] });
    expect(() => resolveRackPlan([racks[0]!, twice], ids, () => ({ serial: '', mac: '00:00:00:00:00:00' }), fail)).toThrow(/racks\.1\.positions\.0\.device: device a is already placed in rack r1 at U1/);
    const reused = rackSchema.parse({ name: 'r3', subnet: '10.0.3.0/24', positions: [{ position: 'U1', device: 'c', mgmt: 'x:1', uplinks: { e0: 't1:Ethernet1' } }] });
    expect(() => resolveRackPlan([racks[0]!, reused], ids, () => ({ serial: '', mac: '00:00:00:00:00:00' }), fail)).toThrow(/switch port t1:Ethernet1 is already cabled to a:Ethernet0/);
  });
});
