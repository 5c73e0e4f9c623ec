import type { RunReport } from '../scenario/run.js';
import { REPORT_FORMAT, shardsOf, type FleetReport } from './fleet-report.js';
import type { FleetTally } from './fleet-tally.js';

/** The run's report: its verdicts with each device's stage times and what its servers served. */
export function fleetReport(run: RunReport, tally: FleetTally, startedAt: Date, wallMs: number): FleetReport {
  return {
    format: REPORT_FORMAT,
    scenario: run.scenario,
    ok: run.ok,
    startedAt: startedAt.toISOString(),
    wallMs: Math.round(wallMs),
    fleetSize: run.fleetSize,
    shards: shardsOf(run.shard),
    served: { httpBytes: tally.httpBytes, tftpBytes: tally.tftpBytes },
    devices: run.devices.map((d) => ({ ...d, ok: d.checks.every((c) => c.ok), stages: tally.stagesOf(d.id) })),
    ...(run.bringUp ? { bringUp: run.bringUp } : {}),
  };
}
