/**
 * CPU time of a server and every process it forks, exited ones included: tftpd-hpa and
 * atftpd serve each transfer in a child (or thread) that /proc/PID/stat of the parent does
 * not count once nobody waits for it. A cgroup counts them all, so the server is moved
 * into one of its own right after it starts (before it forks anything). Where no cgroup
 * can be made (not root, no cpuacct or cgroup2 hierarchy), it falls back to the process's
 * own /proc counters and says so.
 */
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processCpuSeconds } from './spread.js';

export interface CpuMeter {
  /** CPU seconds (user + system) so far. */
  read(): Promise<number>;
  /** True when exited children and threads are counted too. */
  readonly wholeTree: boolean;
  /** Removes the cgroup once its processes are gone; best effort. */
  close(): Promise<void>;
}

interface Hierarchy {
  root: string;
  usage(dir: string): Promise<number>;
}

const HIERARCHIES: Hierarchy[] = [
  // cgroup v1 cpuacct: nanoseconds.
  { root: '/sys/fs/cgroup/cpuacct', usage: async (dir) => Number((await readFile(join(dir, 'cpuacct.usage'), 'utf8')).trim()) / 1e9 },
  // cgroup v2 (pure, or the hybrid layout's unified mount): cpu.stat's usage_usec.
  { root: '/sys/fs/cgroup', usage: v2Usage },
  { root: '/sys/fs/cgroup/unified', usage: v2Usage },
];

async function v2Usage(dir: string): Promise<number> {
  const m = /^usage_usec (\d+)$/m.exec(await readFile(join(dir, 'cpu.stat'), 'utf8'));
  if (!m) throw new Error(`${dir}/cpu.stat has no usage_usec`);
  return Number(m[1]) / 1e6;
}

export async function cpuMeter(pid: number, name: string): Promise<CpuMeter> {
  for (const h of HIERARCHIES) {
    const dir = join(h.root, `bootlab-bench-${name}-${pid}`);
    try {
      await mkdir(dir);
      await writeFile(join(dir, 'cgroup.procs'), String(pid));
      await h.usage(dir);
    } catch {
      await rmdir(dir).catch(() => {});
      continue;
    }
    return {
      wholeTree: true,
      read: () => h.usage(dir),
      async close() {
        // The last processes may take a moment to go after SIGTERM.
        for (let i = 0; i < 20; i++) {
          try {
            await rmdir(dir);
            return;
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      },
    };
  }
  return { wholeTree: false, read: () => processCpuSeconds(pid), close: async () => {} };
}
