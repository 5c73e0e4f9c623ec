import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { BusEvent } from '../event-bus.js';
import type { FleetTally } from '../report/fleet-tally.js';
import { STAGE_LABEL, STAGES } from '../report/stages.js';
import { progressPrinter } from './progress.js';

/**
 * How much `bootlab run` says while it runs:
 * - quiet: nothing but the verdict;
 * - normal: the run's own lines, each failed device's verdict, and the fleet's progress
 *   (a live bar per stage on a terminal, else a status line every STATUS_EVERY_MS);
 * - verbose (-v): a line per device event, as a story of each boot;
 * - debug (-vv): packets, TPM extends and installer output too.
 */
export type Verbosity = 'quiet' | 'normal' | 'verbose' | 'debug';

export const STATUS_EVERY_MS = 5_000;

/** Run-level events worth a line in normal mode. */
const RUN_LINES = new Set(['run.start', 'run.faults', 'image.prepared', 'reference-list.signed', 'run.servers']);

export interface RunOutput {
  observe(e: BusEvent): void;
  /** Stops the live view or the status timer; the terminal is left clean for the summary. */
  stop(): void;
}

export function runOutput(opts: { verbosity: Verbosity; tally: FleetTally; fleetSize: number; tty: boolean; write: (line: string) => void }): RunOutput {
  const { verbosity, tally, fleetSize, write } = opts;
  if (verbosity === 'quiet') return { observe: () => undefined, stop: () => undefined };
  if (verbosity === 'verbose' || verbosity === 'debug') {
    const print = progressPrinter(write, { verbose: verbosity === 'debug' });
    return { observe: print, stop: () => undefined };
  }
  const line = (e: BusEvent): string | undefined => {
    if (e.device === undefined) return RUN_LINES.has(e.type) ? `${(e.at / 1000).toFixed(2).padStart(7)}s  ${e.message}` : undefined;
    if (e.type === 'device.verdict' && e.data?.['ok'] !== true) return `${(e.at / 1000).toFixed(2).padStart(7)}s  ${e.device} ${e.message}`;
    return undefined;
  };
  return opts.tty ? liveBars(tally, fleetSize, line) : statusLines(tally, fleetSize, line, write);
}

/** Without a terminal: the lines, and a status line every few seconds while devices boot. */
function statusLines(tally: FleetTally, fleetSize: number, line: (e: BusEvent) => string | undefined, write: (line: string) => void): RunOutput {
  const started = performance.now();
  const timer = setInterval(() => {
    const t = ((performance.now() - started) / 1000).toFixed(0);
    const stages = STAGES.map((s) => `${STAGE_LABEL[s]} ${tally.reached[s]}`).join(', ');
    write(`${t.padStart(6)} s  ${stages}; ${tally.passed} passed, ${tally.failed} failed of ${fleetSize}`);
  }, STATUS_EVERY_MS);
  timer.unref();
  return {
    observe: (e) => {
      const text = line(e);
      if (text !== undefined) write(text);
    },
    stop: () => clearInterval(timer),
  };
}

/** On a terminal: a bar per stage, redrawn a few times a second, with the lines above it. */
function liveBars(tally: FleetTally, fleetSize: number, line: (e: BusEvent) => string | undefined): RunOutput {
  const bars = new MultiBar(
    { format: ' {stage} |{bar}| {value}/{total}', hideCursor: true, clearOnComplete: false, stopOnComplete: false, fps: 5, barsize: 30, autopadding: true },
    Presets.shades_classic,
  );
  const byStage = new Map<string, SingleBar>();
  for (const s of STAGES) byStage.set(s, bars.create(fleetSize, 0, { stage: STAGE_LABEL[s].padEnd(10) }));
  const verdicts = bars.create(fleetSize, 0, { stage: 'passed'.padEnd(10) });
  const refresh = setInterval(() => {
    for (const s of STAGES) byStage.get(s)!.update(tally.reached[s]);
    verdicts.update(tally.passed, { stage: `${tally.failed ? `passed (${tally.failed} failed)` : 'passed'}`.padEnd(10) });
  }, 200);
  refresh.unref();
  let stopped = false;
  return {
    observe: (e) => {
      const text = line(e);
      if (text !== undefined) bars.log(`${text}\n`);
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      clearInterval(refresh);
      for (const s of STAGES) byStage.get(s)!.update(tally.reached[s]);
      verdicts.update(tally.passed);
      bars.stop();
    },
  };
}
