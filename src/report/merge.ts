import { ReportError } from '../errors.js';
import { fleetReportSchema, type FleetReport } from './fleet-report.js';

/** Checks a parsed JSON value as a report; the message names the file and the field. */
export function readReport(json: unknown, file: string): FleetReport {
  const parsed = fleetReportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ReportError(file, `not a bootlab report: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data as FleetReport;
}

/**
 * Joins shard reports of one run into one: every device once, in fleet order, the verdict
 * PASS only when every shard is there and every device met its expectations. Reports of
 * different scenarios, fleets or shard counts, or the same shard twice, are refused.
 */
export function mergeReports(reports: ReadonlyArray<{ file: string; report: FleetReport }>): { report: FleetReport; missing: number[] } {
  if (reports.length === 0) throw new ReportError('report merge', 'no reports given');
  const first = reports[0]!;
  const seenShard = new Map<number, string>();
  const seenDevice = new Map<string, string>();
  for (const { file, report } of reports) {
    const r = report;
    if (r.scenario !== first.report.scenario) throw new ReportError(file, `scenario "${r.scenario}", but ${first.file} is of "${first.report.scenario}"`);
    if (r.fleetSize !== first.report.fleetSize) throw new ReportError(file, `a fleet of ${r.fleetSize}, but ${first.file} has ${first.report.fleetSize}`);
    if (r.shards.count !== first.report.shards.count) throw new ReportError(file, `cut into ${r.shards.count} shards, but ${first.file} into ${first.report.shards.count}`);
    for (const i of r.shards.included) {
      const other = seenShard.get(i);
      if (other !== undefined) throw new ReportError(file, `shard ${i} of ${r.shards.count} again (also in ${other})`);
      seenShard.set(i, file);
    }
    for (const d of r.devices) {
      const other = seenDevice.get(d.id);
      if (other !== undefined) throw new ReportError(file, `device ${d.id} again (also in ${other})`);
      seenDevice.set(d.id, file);
    }
  }
  const count = first.report.shards.count;
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !seenShard.has(i));
  const all = reports.map((x) => x.report);
  const devices = all.flatMap((r) => r.devices).sort((a, b) => a.index - b.index);
  return {
    missing,
    report: {
      format: first.report.format,
      scenario: first.report.scenario,
      ok: missing.length === 0 && devices.every((d) => d.ok),
      startedAt: all.map((r) => r.startedAt).sort()[0]!,
      // Shards run side by side: the run took as long as its slowest shard.
      wallMs: Math.max(...all.map((r) => r.wallMs)),
      fleetSize: first.report.fleetSize,
      shards: { count, included: [...seenShard.keys()].sort((a, b) => a - b) },
      served: { httpBytes: sum(all.map((r) => r.served.httpBytes)), tftpBytes: sum(all.map((r) => r.served.tftpBytes)) },
      devices,
    },
  };
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
