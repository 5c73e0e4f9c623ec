import type { StageTimes } from './fleet-tally.js';
import { STAGE_LABEL, STAGES, type Stage } from './stages.js';

/** One stage of a funnel: how many devices reached it, and how long they took from the stage before. */
export interface FunnelRow {
  stage: Stage;
  reached: number;
  /** Time from the stage before (the last one the device reached), nearest-rank; absent for power-on or when none reached it. */
  p50Ms?: number;
  p95Ms?: number;
  maxMs?: number;
}

/** The funnel of a group of devices (the fleet, a wave, a rack) from their stage times. */
export function funnelOf(devices: ReadonlyArray<{ stages: StageTimes }>): FunnelRow[] {
  return STAGES.map((stage, i) => {
    const spent: number[] = [];
    let reached = 0;
    for (const d of devices) {
      const at = d.stages[stage];
      if (at === undefined) continue;
      reached++;
      const before = i === 0 ? undefined : previousReached(d.stages, i);
      if (before !== undefined) spent.push(at - before);
    }
    if (spent.length === 0) return { stage, reached };
    spent.sort((a, b) => a - b);
    return { stage, reached, p50Ms: percentile(spent, 0.5), p95Ms: percentile(spent, 0.95), maxMs: spent.at(-1)! };
  });
}

/** A funnel on one line: each stage some device reached, with its p50/p95. */
export function funnelLine(rows: readonly FunnelRow[], devices: number): string {
  return rows
    .filter((r) => r.reached > 0)
    .map((r) => `${STAGE_LABEL[r.stage]} ${r.reached}/${devices}${r.p50Ms !== undefined ? ` (p50 ${duration(r.p50Ms)}, p95 ${duration(r.p95Ms!)})` : ''}`)
    .join(' · ');
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function previousReached(stages: StageTimes, i: number): number | undefined {
  for (let j = i - 1; j >= 0; j--) {
    const t = stages[STAGES[j]!];
    if (t !== undefined) return t;
  }
  return undefined;
}
