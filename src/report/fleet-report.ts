import { z } from 'zod';
import type { DeviceResult, ExpectationCheck } from '../scenario/expectations.js';
import type { Shard } from '../fleet/shard.js';
import { STAGES } from './stages.js';
import type { BringUpReport } from '../scenario/rollout.js';
import type { StageTimes } from './fleet-tally.js';
import type { FunnelRow } from './funnel.js';

export const REPORT_FORMAT = 'bootlab-report/1';

/** One device in a report: its result, its checks and when it reached each stage. */
export type ReportDevice = DeviceResult & { ok: boolean; checks: ExpectationCheck[]; stages: StageTimes };

/**
 * What `--report FILE` writes and `bootlab report merge` reads: a run's (or a shard's)
 * verdict, one entry per device, and what the run's servers served. Devices are in fleet
 * order; their stage times are relative to their own power-on, so shards' reports merge.
 */
export interface FleetReport {
  format: typeof REPORT_FORMAT;
  scenario: string;
  ok: boolean;
  startedAt: string;
  wallMs: number;
  /** Devices in the whole fleet; a shard's report holds only its slice of them. */
  fleetSize: number;
  /** The shards this report holds (one for a shard's own report, all of them once merged). */
  shards: { count: number; included: number[] };
  served: { httpBytes: number; tftpBytes: number };
  devices: ReportDevice[];
  /** Waves, racks, inventory and cabling, for a scenario with a rack plan or a rollout; each wave's and rack's funnel. */
  bringUp?: BringUpReport & { funnels?: { waves: Record<string, FunnelRow[]>; racks: Record<string, FunnelRow[]> } };
}

const check = z.object({ what: z.string(), ok: z.boolean(), detail: z.string() }).loose();
const device = z
  .object({
    id: z.string(),
    suite: z.string(),
    index: z.number().int().nonnegative(),
    ok: z.boolean(),
    outcome: z.enum(['installed', 'gave-up', 'halted', 'timed-out', 'not-started']),
    rejections: z.array(z.object({ url: z.string(), reason: z.string(), detail: z.string() })),
    passes: z.number(),
    durationMs: z.number(),
    checks: z.array(check),
    stages: z.partialRecord(z.enum(STAGES), z.number()),
  })
  .loose();

/** How a report file is checked when read back (e.g. by `report merge`). */
export const fleetReportSchema = z
  .object({
    format: z.literal(REPORT_FORMAT),
    scenario: z.string(),
    ok: z.boolean(),
    startedAt: z.string(),
    wallMs: z.number().nonnegative(),
    fleetSize: z.number().int().nonnegative(),
    shards: z.object({ count: z.number().int().positive(), included: z.array(z.number().int().positive()) }),
    served: z.object({ httpBytes: z.number().nonnegative(), tftpBytes: z.number().nonnegative() }),
    devices: z.array(device),
  })
  .loose();

export function shardsOf(shard: Shard | undefined): FleetReport['shards'] {
  return shard ? { count: shard.count, included: [shard.index] } : { count: 1, included: [1] };
}
