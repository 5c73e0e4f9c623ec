/**
 * What every bench prints so its numbers can be compared across machines: the machine and
 * how loaded it was, the commit measured, and each figure as median (min–max) of its runs.
 */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, release, totalmem } from 'node:os';

export interface Stats {
  min: number;
  median: number;
  max: number;
}

/** The lower median of an even count, so a figure is always one that was measured. */
export function stats(xs: readonly number[]): Stats {
  if (xs.length === 0) throw new Error('stats: no samples');
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, median: s[Math.floor((s.length - 1) / 2)]!, max: s[s.length - 1]! };
}

/** "median (min–max)", or the one value when all runs agree at this precision. */
export function spread(xs: readonly number[], digits: number): string {
  const { min, median, max } = stats(xs);
  const [a, m, b] = [min, median, max].map((x) => x.toFixed(digits));
  return a === b ? m! : `${m} (${a}–${b})`;
}

/** One line naming the machine, its load and the commit: the context every figure needs. */
export function machineLine(repo: string): string {
  let commit = 'unknown commit';
  try {
    commit = execFileSync('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', repo, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    if (dirty) commit += ' (with uncommitted changes)';
  } catch {
    // Not a git checkout (an unpacked tarball): the date still places the numbers.
  }
  const load = loadavg().map((x) => x.toFixed(2)).join(' ');
  return `${new Date().toISOString().slice(0, 10)}, commit ${commit}; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}; load average ${load}`;
}

const CLOCK_TICKS = 100;

/**
 * CPU seconds a process has used, its reaped children included: utime, stime, cutime and
 * cstime of /proc/PID/stat, in clock ticks (USER_HZ, 100 on Linux).
 */
export async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((n, i) => n + Number(fields[i]), 0) / CLOCK_TICKS;
}
