import type { FleetReport, ReportDevice } from '../../src/report/fleet-report.js';

/** A report device with the fields a test cares about; the rest plausible. */
export function device(id: string, index: number, over: Partial<ReportDevice> = {}): ReportDevice {
  return {
    id,
    suite: 'leaf',
    index,
    ok: true,
    outcome: 'installed',
    rejections: [],
    passes: 1,
    durationMs: 1000,
    checks: [{ what: 'outcome', ok: true, detail: 'expected installed, device installed' }],
    stages: { 'powered-on': 0, leased: 100, discovered: 150, fetched: 400, verified: 410, measured: 411, installed: 800, attested: 900 },
    ...over,
  };
}

export function report(devices: ReportDevice[], over: Partial<FleetReport> = {}): FleetReport {
  return {
    format: 'bootlab-report/1',
    scenario: 'fleet',
    ok: devices.every((d) => d.ok),
    startedAt: '2026-12-02T10:00:00.000Z',
    wallMs: 60_000,
    fleetSize: devices.length,
    shards: { count: 1, included: [1] },
    served: { httpBytes: 10 * 1024 * 1024, tftpBytes: 0 },
    devices,
    ...over,
  };
}

export const failedOutcome = (id: string, index: number, outcome: ReportDevice['outcome'] = 'gave-up'): ReportDevice =>
  device(id, index, {
    ok: false,
    outcome,
    checks: [{ what: 'outcome', ok: false, detail: `expected installed, device ${outcome}` }],
    stages: { 'powered-on': 0, leased: 100, discovered: 150 },
  });
