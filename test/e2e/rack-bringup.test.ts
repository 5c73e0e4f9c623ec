import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventBus, type BusEvent } from '../../src/event-bus.js';
import { loadScenario } from '../../src/scenario/load.js';
import { runScenario, type RunReport } from '../../src/scenario/run.js';
import { FleetTally } from '../../src/report/fleet-tally.js';
import { fleetReport } from '../../src/report/from-run.js';
import type { FunnelRow } from '../../src/report/funnel.js';
import { junitXml } from '../../src/report/junit.js';
import { summaryLines } from '../../src/report/summary.js';

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
    // Each switch's POST is its own draw from the triangular distribution, and its first DHCP waits for it.
    const posts = events.filter((e) => e.type === 'device.power-on').map((e) => [e.device, (e.data as { postMs: number }).postMs] as const);
    expect(posts).toHaveLength(4);
    expect(new Set(posts.map(([, ms]) => ms)).size).toBeGreaterThan(1);
    for (const [device, ms] of posts) {
      expect(ms).toBeGreaterThanOrEqual(2000);
      expect(ms).toBeLessThanOrEqual(20_000);
      const on = events.find((e) => e.type === 'device.power-on' && e.device === device)!.at;
      const booted = events.find((e) => e.type === 'device.booted' && e.device === device)!.at;
      // clockSpeed 10: a 5 s POST is 500 ms of wall time.
      expect(booted - on).toBeGreaterThanOrEqual(ms / 10 - 5);
    }
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

  it('rogue-dhcp: a rogue server on r2\'s segment answers first; r2 takes its lease, refuses its installer, and the rollout halts', async () => {
    const { report, events } = await runShipped('rogue-dhcp');
    expect(report.ok).toBe(true);
    expect(Object.fromEntries(report.devices.map((d) => [d.id, [d.outcome, d.rogueDhcp ?? []]]))).toEqual({
      'leaf-01': ['installed', []],
      'leaf-02': ['installed', []],
      'leaf-03': ['gave-up', ['127.0.0.250']],
      'leaf-04': ['gave-up', ['127.0.0.250']],
    });
    const b = report.bringUp!;
    expect(b.halted).toMatchObject({ wave: 'batch' });
    expect(b.racks.map((r) => [r.name, r.rogueDhcp])).toEqual([['r1', {}], ['r2', { '127.0.0.250': 2 }]]);
    // r2's switches asked through the relay as well: the run's server offered, and dropped
    // its offer when their REQUEST named the rogue (RFC 2131 §4.3.2), so it handed out no address.
    const r2Acks = events.filter((e) => e.type === 'dhcp.ack' && /52:54:00:40:00:0[34]/.test(e.message));
    expect(r2Acks).toEqual([]);
    expect(events.some((e) => e.type === 'dhcp.offer' && /52:54:00:40:00:03/.test(e.message))).toBe(true);
    expect(events.some((e) => e.type === 'dhcp.request' && /52:54:00:40:00:03/.test(e.message))).toBe(true);
    // Nothing from the rogue was run: every r2 candidate it pointed at was refused by db.
    expect(report.devices.filter((d) => d.rack === 'r2').flatMap((d) => d.rejections.map((r) => r.url))).toSatisfy((urls: string[]) => urls.length === 4 && urls.every((u) => u.endsWith('/rogue-nos.bin')));
  });

  it('rack-bringup: the report, summary and JUnit carry each wave\'s timeline and funnel and each rack\'s funnel', async () => {
    const bus = new EventBus();
    const tally = new FleetTally();
    bus.subscribe(tally.observe);
    const started = new Date();
    const run = await runScenario(await loadScenario(join(repo, 'scenarios', 'rack-bringup.yaml')), { bus });
    const r = fleetReport(run, tally, started, 1000);
    const b = r.bringUp!;
    const [canary, batch] = b.waves;
    expect(canary!.startedMs).toBeLessThanOrEqual(canary!.endedMs!);
    expect(batch!.startedMs).toBeGreaterThanOrEqual(canary!.endedMs!);
    const installed = (rows: FunnelRow[]) => rows.find((x) => x.stage === 'installed')!;
    expect(installed(b.funnels!.waves['canary']!)).toMatchObject({ reached: 2 });
    expect(installed(b.funnels!.waves['canary']!).p95Ms).toBeGreaterThanOrEqual(installed(b.funnels!.waves['canary']!).p50Ms!);
    expect(b.funnels!.racks['r2']!.find((x) => x.stage === 'leased')).toMatchObject({ reached: 2 });
    const summary = summaryLines(r).join('\n');
    expect(summary).toMatch(/wave canary: passed \[\d+ ms → \d+(\.\d+)? m?s\]/);
    expect(summary).toMatch(/ {4}funnel: powered on 2\/2 · leased 2\/2 \(p50 [\d.]+ m?s, p95 [\d.]+ m?s\)/);
    const xml = junitXml(r);
    const caseCount = (xml.match(/<testcase /g) ?? []).length;
    const failures = (xml.match(/<failure /g) ?? []).length;
    expect(xml).toContain(`<testsuites name="rack-bringup" tests="${caseCount}" failures="${failures}"`);
    expect(caseCount).toBeGreaterThan(4);
    expect(xml).toMatch(/<testcase name="wave canary"[^>]*>\n {6}<system-out>passed: powered on at [\d.]+ s, gate decided at [\d.]+ s\nfunnel: powered on 2\/2/);
    expect(xml).toMatch(/<testsuite name="rack r1"[\s\S]*?<system-out>funnel: powered on 2\/2/);
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
