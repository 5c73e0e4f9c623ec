/**
 * The flood table: for each attack, one row per measure, one column per server, with the
 * issue's targets and PASS/FAIL beside the values. Several runs of one cell show the
 * median and (min–max); counts are summed over the runs, peaks are the largest.
 */
import type { RunResult } from './measure.js';
import type { ServerName } from './servers.js';

export const TARGETS = { latencyRatio: 2, rssMiB: 256 } as const;

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
const median = (xs: number[]): number => sorted(xs)[Math.floor((xs.length - 1) / 2)]!;
const spread = (xs: number[], digits: number, unit = ''): string => {
  if (xs.length === 0) return '—';
  const s = sorted(xs);
  const m = `${median(xs).toFixed(digits)}${unit}`;
  const lo = s[0]!.toFixed(digits);
  const hi = s[s.length - 1]!.toFixed(digits);
  return s.length > 1 && lo !== hi ? `${m} (${lo}–${hi})` : m;
};

/** What the attackers of one run sent (and saw answered), summed over them. */
export function attackSummary(r: RunResult): string {
  const sum = (k: 'sent' | 'errors' | 'answered'): number => r.attacks.reduce((n, a) => n + (a[k] ?? 0), 0);
  const seen = r.attacks.some((a) => a.answered !== undefined);
  const details = [...new Set(r.attacks.map((a) => a.detail).filter(Boolean))];
  return `${sum('sent')} sent${seen ? `, ${sum('answered')} answered` : ''}${sum('errors') > 0 ? `, ${sum('errors')} errors` : ''}${details.length ? ` (${details.join('; ')})` : ''}`;
}

interface Verdicts {
  latency: boolean[];
  rss: boolean;
  fds: boolean;
}

/** Rows for one attack; `cells` maps server → its runs (absent: the attack does not apply). */
export function attackRows(cells: Map<ServerName, RunResult[]>, columns: ServerName[], nofile: number, maxPids: number): { rows: string[][]; fails: Map<ServerName, number> } {
  const labels = [...new Set([...cells.values()].flatMap((runs) => runs.flatMap((r) => [...r.legit.keys()])))];
  const rows: string[][] = [];
  const verdicts = new Map<ServerName, Verdicts>();
  /** `label`: the row is about one legitimate exchange, which not every server is asked for. */
  const row = (name: string, cell: (runs: RunResult[], s: ServerName) => string, label?: string): void =>
    void rows.push([
      name,
      ...columns.map((s) => {
        const runs = cells.get(s);
        return runs && (label === undefined || runs.some((r) => r.legit.has(label))) ? cell(runs, s) : 'n/a';
      }),
    ]);
  const v = (s: ServerName): Verdicts => verdicts.get(s) ?? (verdicts.set(s, { latency: [], rss: true, fds: true }), verdicts.get(s)!);

  row('attackers sent', (runs) => {
    const sum = (r: RunResult, k: 'sent' | 'answered'): number => r.attacks.reduce((n, a) => n + (a[k] ?? 0), 0);
    const seen = runs.some((r) => r.attacks.some((a) => a.answered !== undefined));
    return `${spread(runs.map((r) => sum(r, 'sent')), 0)}${seen ? `, ${spread(runs.map((r) => sum(r, 'answered')), 0)} answered` : ''}`;
  });
  for (const label of labels) {
    const attempts = (runs: RunResult[], phase: 'idle' | 'flood') => runs.map((r) => (r.legit.get(label) ?? []).filter((a) => a.phase === phase));
    row(`${label}: ok / attempts in flood`, (runs) => {
      const f = attempts(runs, 'flood').flat();
      const ok = f.filter((a) => a.ok).length;
      const firstError = f.find((a) => !a.ok)?.error;
      return `${ok}/${f.length}${firstError ? ` (${firstError.slice(0, 40)})` : ''}`;
    }, label);
    row(`${label}: idle ms (median)`, (runs) => spread(attempts(runs, 'idle').map((xs) => median(xs.filter((a) => a.ok).map((a) => a.ms))).filter(Number.isFinite), 1), label);
    row(`${label}: flood ms median / max`, (runs) => {
      const okFlood = attempts(runs, 'flood').map((xs) => xs.filter((a) => a.ok).map((a) => a.ms));
      const meds = okFlood.filter((xs) => xs.length > 0).map(median);
      const maxes = okFlood.filter((xs) => xs.length > 0).map((xs) => Math.max(...xs));
      return meds.length === 0 ? 'none served' : `${spread(meds, 1)} / ${Math.max(...maxes).toFixed(0)}`;
    }, label);
    row(`${label}: flood / idle (≤ ${TARGETS.latencyRatio}×, all served)`, (runs, s) => {
      const ratios = runs.flatMap((r) => {
        const xs = r.legit.get(label) ?? [];
        const idle = xs.filter((a) => a.phase === 'idle' && a.ok).map((a) => a.ms);
        const flood = xs.filter((a) => a.phase === 'flood' && a.ok).map((a) => a.ms);
        return idle.length > 0 && flood.length > 0 ? [median(flood) / median(idle)] : [];
      });
      const served = attempts(runs, 'flood').flat();
      const missed = served.filter((a) => !a.ok).length;
      const pass = ratios.length === runs.length && median(ratios) <= TARGETS.latencyRatio && served.length > 0 && missed === 0;
      v(s).latency.push(pass);
      const why = missed > 0 ? ` (${missed} not served)` : served.length === 0 ? ' (no attempt)' : '';
      return `${ratios.length > 0 ? spread(ratios, 1, '×') : '—'} ${pass ? 'PASS' : 'FAIL'}${why}`;
    }, label);
  }
  row(`peak RSS MiB (≤ ${TARGETS.rssMiB}) / before the flood`, (runs, s) => {
    const peak = Math.max(...runs.map((r) => r.peak.rssMiB));
    const pass = peak <= TARGETS.rssMiB;
    v(s).rss = pass;
    return `${peak.toFixed(0)} / ${spread(runs.map((r) => r.before.rssMiB), 0)} ${pass ? 'PASS' : 'FAIL'}`;
  });
  row(`peak open fds of a process (< ${nofile}), processes (< ${maxPids})`, (runs, s) => {
    const peak = Math.max(...runs.map((r) => r.peak.fds));
    const procs = Math.max(...runs.map((r) => r.peak.procs));
    const exited = runs.find((r) => r.exited !== undefined)?.exited;
    const pass = peak < nofile && procs < maxPids && exited === undefined;
    v(s).fds = pass;
    return `${peak}${procs > 1 ? `, ${procs} processes` : ''}${exited ? `, server ${exited}` : ''} ${pass ? 'PASS' : 'FAIL'}`;
  });
  const fails = new Map<ServerName, number>();
  for (const [s, x] of verdicts) fails.set(s, x.latency.filter((p) => !p).length + (x.rss ? 0 : 1) + (x.fds ? 0 : 1));
  return { rows, fails };
}

export function printTable(head: string[], sections: Array<{ title: string; rows: string[][] }>): void {
  const indented = sections.map((s) => ({ title: s.title, rows: s.rows.map((r) => ['  ' + r[0]!, ...r.slice(1)]) }));
  const all = indented.flatMap((s) => s.rows);
  const widths = head.map((h, i) => Math.max(h.length, ...all.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  console.log(line(head));
  for (const s of indented) {
    console.log(s.title);
    for (const r of s.rows) console.log(line(r));
  }
}
