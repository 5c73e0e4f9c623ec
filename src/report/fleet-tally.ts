import type { BusEvent } from '../event-bus.js';
import { STAGES, stageOf, type Stage } from './stages.js';

/** When a device reached each stage, in ms since its power-on (absent: never). */
export type StageTimes = Partial<Record<Stage, number>>;

/**
 * A bus subscriber that keeps, per device, only when it reached each stage (a few numbers,
 * whatever the device logs), and for the run: how many devices reached each stage, the
 * verdicts so far and the bytes the servers sent. The progress view, the closing summary
 * and the report read it; nothing else about the run is kept.
 */
export class FleetTally {
  private readonly times = new Map<string, Float64Array>();
  readonly reached: Record<Stage, number> = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  passed = 0;
  failed = 0;
  httpBytes = 0;
  tftpBytes = 0;

  /** The subscriber to give `bus.subscribe`. */
  readonly observe = (e: BusEvent): void => {
    if (e.type === 'http.request') this.httpBytes += numberIn(e.data, 'bytes');
    else if (e.type === 'tftp.done') this.tftpBytes += numberIn(e.data, 'bytes');
    if (e.device === undefined) return;
    if (e.type === 'device.verdict') {
      if (e.data?.['ok'] === true) this.passed++;
      else this.failed++;
      return;
    }
    const stage = stageOf(e.type, e.data);
    if (stage === undefined) return;
    let t = this.times.get(e.device);
    if (!t) {
      if (stage !== 'powered-on') return;
      t = new Float64Array(STAGES.length).fill(Number.NaN);
      this.times.set(e.device, t);
    }
    const i = STAGES.indexOf(stage);
    if (!Number.isNaN(t[i]!)) return;
    t[i] = e.at;
    this.reached[stage]++;
  };

  /** A device's stage times relative to its power-on. */
  stagesOf(device: string): StageTimes {
    const t = this.times.get(device);
    if (!t) return {};
    const on = t[0]!;
    const out: StageTimes = {};
    STAGES.forEach((s, i) => {
      if (!Number.isNaN(t[i]!)) out[s] = t[i]! - on;
    });
    return out;
  }
}

function numberIn(data: Record<string, unknown> | undefined, key: string): number {
  const v = data?.[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
