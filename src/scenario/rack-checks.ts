import { resolveRackPlan } from '../rack/plan.js';
import { cablingPlanOf } from '../rack/lldp-fabric.js';
import type { Scenario } from './schema.js';

type Fail = (path: (string | number)[], message: string) => never;

/**
 * What the schema cannot see in a rack plan and rollout: names that point at nothing, a
 * device in two waves or in none, a cabling expectation for a port without a planned cable.
 * Checked at load with placeholder identities; the run resolves the plan again with the
 * devices' real serials and MACs.
 */
export function checkRackPlan(s: Scenario, fail: Fail): void {
  const ids = new Set(s.devices.map((d) => d.id));
  const plan = resolveRackPlan(s.racks, ids, () => ({ serial: '', mac: '' }), fail);
  const links = new Set(cablingPlanOf(plan.uplinks, undefined).links.map((l) => `${l.device}:${l.port}`));
  s.racks.forEach((r, i) => {
    for (const port of Object.keys(r.expect.cabling)) {
      if (!links.has(port)) fail(['racks', i, 'expect', 'cabling', port], `switch port ${port} has no planned cable (see positions[].uplinks)`);
    }
  });
  s.devices.forEach((d) => {
    if (d.expect.inventory !== undefined && !plan.placement.has(d.id)) {
      fail(['devices', d.entry, 'expect', 'inventory'], `device ${d.id} has an inventory expectation but no place in racks (only devices behind a rack's relay meet the inventory)`);
    }
  });
  const rollout = s.rollout;
  if (!rollout) return;
  const racks = new Map(s.racks.map((r) => [r.name, r] as const));
  const waveOf = new Map<string, string>();
  const waves = new Set<string>();
  rollout.waves.forEach((w, i) => {
    const at = ['rollout', 'waves', i];
    if (waves.has(w.name)) fail([...at, 'name'], `duplicate wave name "${w.name}"`);
    waves.add(w.name);
    const take = (id: string, path: (string | number)[]): void => {
      const other = waveOf.get(id);
      if (other !== undefined) fail(path, `device ${id} is already in wave ${other}`);
      waveOf.set(id, w.name);
    };
    w.racks.forEach((name, j) => {
      const r = racks.get(name);
      if (!r) fail([...at, 'racks', j], `no rack named "${name}" (have: ${[...racks.keys()].join(', ') || 'none'})`);
      for (const p of r.positions) take(p.device, [...at, 'racks', j]);
      for (const u of r.unplanned) take(u.device, [...at, 'racks', j]);
    });
    w.devices.forEach((id, j) => {
      if (!ids.has(id)) fail([...at, 'devices', j], `no device "${id}" in devices`);
      take(id, [...at, 'devices', j]);
    });
    if (w.racks.length === 0 && w.devices.length === 0) fail(at, `wave ${w.name} powers on nothing: give it racks or devices`);
  });
  const missing = s.devices.find((d) => !waveOf.has(d.id));
  if (missing) fail(['rollout', 'waves'], `device ${missing.id} is in no wave: with a rollout, every device is powered on by one`);
  const halted = rollout.expect.haltedAt;
  if (halted !== undefined && !waves.has(halted)) fail(['rollout', 'expect', 'haltedAt'], `no wave named "${halted}"`);
}
