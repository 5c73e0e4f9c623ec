/**
 * A cgroup-v1 pids group per server run. It bounds how many processes a forking server
 * (tftpd-hpa forks one per RRQ) may make, so a flood cannot take the machine's pids; it
 * lists every process of the server for the sampler; and it lets the run end all of them,
 * the orphaned children included, by their ids.
 */
import { mkdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { sleep } from './pace.js';

const ROOT = '/sys/fs/cgroup/pids';

export interface PidsGroup {
  path: string;
  max: number;
  /**
   * Moves a just-spawned process into the group, before it has forked anything. (It
   * cannot join by itself: `ip netns exec` mounts a fresh /sys, without the cgroups.)
   */
  add(pid: number): Promise<void>;
  pids(): Promise<number[]>;
  /** SIGKILL to every process in the group, then the group removed; bounded in tries. */
  destroy(): Promise<void>;
}

export async function createPidsGroup(max: number): Promise<PidsGroup> {
  const path = `${ROOT}/bootlab-flood-${randomBytes(3).toString('hex')}`;
  try {
    await mkdir(path);
  } catch (e) {
    throw new Error(`cannot make a pids cgroup under ${ROOT} (${e instanceof Error ? e.message : String(e)}): the bench needs cgroup v1 pids, as root`);
  }
  await writeFile(`${path}/pids.max`, String(max));
  const pids = async (): Promise<number[]> =>
    (await readFile(`${path}/cgroup.procs`, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map(Number);
  return {
    path,
    max,
    add: (pid) => writeFile(`${path}/cgroup.procs`, String(pid)),
    pids,
    async destroy() {
      for (let i = 0; i < 50; i++) {
        const left = await pids();
        if (left.length === 0) break;
        for (const pid of left) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // Already gone between the read and the kill.
          }
        }
        await sleep(100);
      }
      await rmdir(path).catch(() => undefined);
    },
  };
}
