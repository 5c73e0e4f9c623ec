import type { RunReport } from '../scenario/run.js';
import type { BringUpReport } from '../scenario/rollout.js';
import { REPORT_FORMAT, shardsOf, type FleetReport, type ReportDevice } from './fleet-report.js';
import { funnelOf, type FunnelRow } from './funnel.js';
import type { FleetTally } from './fleet-tally.js';

/** The run's report: its verdicts with each device's stage times and what its servers served. */
export function fleetReport(run: RunReport, tally: FleetTally, startedAt: Date, wallMs: number): FleetReport {
  const devices: ReportDevice[] = run.devices.map((d) => ({ ...d, ok: d.checks.every((c) => c.ok), stages: tally.stagesOf(d.id) }));
  return {
    format: REPORT_FORMAT,
    scenario: run.scenario,
    ok: run.ok,
    startedAt: startedAt.toISOString(),
    wallMs: Math.round(wallMs),
    fleetSize: run.fleetSize,
    shards: shardsOf(run.shard),
    served: { httpBytes: tally.httpBytes, tftpBytes: tally.tftpBytes },
    devices,
    ...(run.bringUp ? { bringUp: { ...run.bringUp, funnels: funnelsOf(run.bringUp, devices) } } : {}),
  };
}

/** Each started wave's and each rack's funnel, from its devices' stage times. */
function funnelsOf(b: BringUpReport, devices: readonly ReportDevice[]): { waves: Record<string, FunnelRow[]>; racks: Record<string, FunnelRow[]> } {
  const started = devices.filter((d) => d.outcome !== 'not-started');
  return {
    waves: Object.fromEntries(b.waves.filter((w) => w.status !== 'not-started').map((w) => [w.name, funnelOf(started.filter((d) => d.wave === w.name))])),
    racks: Object.fromEntries(b.racks.map((r) => [r.name, funnelOf(started.filter((d) => d.rack === r.name))])),
  };
}
