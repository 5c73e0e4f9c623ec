/**
 * Samples a server's processes from /proc while it runs. Memory is the main process's own
 * high-water mark (VmHWM, which catches a peak between samples) or, for a server that
 * forks, the proportional set size (Pss of smaps_rollup) summed over its processes,
 * whichever is larger: summed RSS would count the shared libraries of every child again.
 * Open file descriptors (entries of /proc/PID/fd) are the most any one process holds,
 * since the fd limit is per process; how many processes there are is kept beside it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { sleep } from './pace.js';

export interface Usage {
  rssMiB: number;
  /** The most descriptors one process had open. */
  fds: number;
  procs: number;
}

const kib = (text: string, field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0);

async function one(pid: number, withPss: boolean): Promise<{ pssKiB: number; hwmKiB: number; fds: number } | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const pssKiB = withPss ? kib(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss') : kib(status, 'VmRSS');
    const fds = (await readdir(`/proc/${pid}/fd`)).length;
    return { pssKiB, hwmKiB: kib(status, 'VmHWM'), fds };
  } catch {
    // The process ended between listing and reading it.
    return undefined;
  }
}

/** One reading of `pids` (the server's processes, `main` among them) now. */
export async function usage(main: number, pids: number[]): Promise<Usage> {
  const forked = pids.length > 1;
  const all = (await Promise.all(pids.map((p) => one(p, forked)))).filter((x) => x !== undefined);
  const mainHwm = (await one(main, false))?.hwmKiB ?? 0;
  const pss = forked ? all.reduce((n, x) => n + x.pssKiB, 0) : 0;
  return { rssMiB: Math.max(mainHwm, pss) / 1024, fds: Math.max(0, ...all.map((x) => x.fds)), procs: all.length };
}

export class Sampler {
  readonly peak: Usage = { rssMiB: 0, fds: 0, procs: 0 };
  private running = true;
  private readonly loop: Promise<void>;

  constructor(main: number, pids: () => Promise<number[]>, intervalMs = 200) {
    this.loop = (async () => {
      while (this.running) {
        const u = await usage(main, await pids());
        this.peak.rssMiB = Math.max(this.peak.rssMiB, u.rssMiB);
        this.peak.fds = Math.max(this.peak.fds, u.fds);
        this.peak.procs = Math.max(this.peak.procs, u.procs);
        await sleep(intervalMs);
      }
    })();
  }

  async stop(): Promise<Usage> {
    this.running = false;
    await this.loop;
    return this.peak;
  }
}
