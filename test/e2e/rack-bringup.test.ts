import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus, type BusEvent } from '../../src/event-bus.js';
import { loadScenario } from '../../src/scenario/load.js';
import { runScenario, type RunReport } from '../../src/scenario/run.js';

const repo = new URL('../../', import.meta.url).pathname;

async function runShipped(name: string): Promise<{ report: RunReport; events: BusEvent[] }> {
  const bus = new EventBus();
  const events: BusEvent[] = [];
  bus.subscribe((e) => events.push(e));
  const report = await runScenario(await loadScenario(join(repo, 'scenarios', `${name}.yaml`)), { bus });
  return { report, events };
}

describe('bring-up scenarios: racks behind real relays, inventory, cabling, waves', () => {
  it('rack-bringup: the canary wave passes its gate, the batch wave catches the crossed cables over LLDP and halts', async () => {
    const { report, events } = await runShipped('rack-bringup');
    expect(report.ok).toBe(true);
    const b = report.bringUp!;
    expect(b.waves.map((w) => [w.name, w.status])).toEqual([['canary', 'passed'], ['batch', 'failed']]);
    expect(b.halted).toMatchObject({ wave: 'batch' });
    expect(b.halted!.reason).toMatch(/cabling: 2\/4 planned links ok/);
    const r2 = b.racks.find((r) => r.name === 'r2')!;
    expect(r2.cabling.filter((c) => c.kind !== 'ok').map((c) => [c.port, c.kind])).toEqual([
      ['r2-tor:Ethernet3', 'cable-swap'],
      ['r2-tor:Ethernet4', 'cable-swap'],
    ]);
    expect(b.racks.find((r) => r.name === 'r1')!.cabling.every((c) => c.kind === 'ok')).toBe(true);
    // Each rack's devices lease from their rack's subnet, through their rack's relay with option 82.
    const leases = events.filter((e) => e.type === 'dhcp.ack').map((e) => e.message);
    expect(leases.some((m) => /52:54:00:10:00:01 10\.1\.1\.\d+/.test(m))).toBe(true);
    expect(leases.some((m) => /52:54:00:10:00:03 10\.1\.2\.\d+/.test(m))).toBe(true);
    expect(events.some((e) => e.type === 'relay.request' && /circuit-id r2-mgmt:Gi1\/1 remote-id r2/.test(e.message))).toBe(true);
    expect(report.devices.every((d) => d.inventory?.verdict === 'admitted')).toBe(true);
  });

  it('rma-swap: only the device matching its record is admitted; each other one is refused by name and gets no lease', async () => {
    const { report, events } = await runShipped('rma-swap');
    expect(report.ok).toBe(true);
    expect(Object.fromEntries(report.devices.map((d) => [d.id, [d.outcome, d.inventory?.verdict]]))).toEqual({
      'leaf-01': ['installed', 'admitted'],
      'leaf-02-rma': ['gave-up', 'unknown-device'],
      'leaf-03': ['gave-up', 'serial-mismatch'],
      stray: ['gave-up', 'unknown-port'],
    });
    const refusedMacs = new Set(events.filter((e) => e.type === 'dhcp.refused').map((e) => (e.data as { mac: string }).mac));
    expect([...refusedMacs].sort()).toEqual(['52:54:00:20:00:03', '52:54:00:29:99:02', '52:54:00:99:00:01']);
    expect(events.some((e) => e.type === 'dhcp.offer' && /52:54:00:29:99:02/.test(e.message))).toBe(false);
  });

  it('relay-outage: the rack stays in the DHCP loop while its relay is down and installs once it is back', async () => {
    const { report, events } = await runShipped('relay-outage');
    expect(report.ok).toBe(true);
    const types = events.map((e) => e.type);
    expect(types.indexOf('fault.relay-down')).toBeLessThan(types.indexOf('fault.relay-up'));
    const firstLease = events.findIndex((e) => e.type === 'dhcp.ack');
    expect(firstLease).toBeGreaterThan(types.indexOf('fault.relay-up'));
    const r1 = report.bringUp!.racks[0]!;
    expect(r1.relay.dropped['relay-down']).toBeGreaterThan(0);
    expect(report.devices.every((d) => d.outcome === 'installed' && d.passes >= 2)).toBe(true);
  });

  it('a rollout whose expectation disagrees with what happened fails the run and says so', async () => {
    const loaded = await loadScenario(join(repo, 'scenarios', 'rack-bringup.yaml'));
    loaded.scenario.rollout!.expect = {};
    const report = await runScenario(loaded, {});
    expect(report.ok).toBe(false);
    expect(report.bringUp!.checks[0]).toMatchObject({ what: 'rollout', ok: false });
    expect(report.bringUp!.checks[0]!.detail).toMatch(/expected every gate passed, halted at batch/);
    // r2's swap is still expected by its rack, so only the rollout check is at fault.
    expect(report.bringUp!.racks.flatMap((r) => r.checks).every((c) => c.ok)).toBe(true);
  });
});
