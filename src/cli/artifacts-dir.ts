import { lstat, mkdir, readdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/** What a run leaves in its artifacts root; either marks a directory a previous run wrote. */
const RUN_MARKERS = ['report.json', '.run'];

/**
 * Makes sure `--artifacts DIR` can hold a run before the run starts, and returns its
 * absolute path. A missing DIR is created one level at a time: recursive mkdir spins
 * forever on procfs (`/proc/nope`), and one level at a time names the level that failed.
 * An existing DIR must be a directory (a file or a dangling symlink is refused) and either
 * empty or a previous run's artifacts; anything else is the user's data, kept unless `force`.
 */
export async function prepareArtifactsDir(dir: string, force: boolean): Promise<string> {
  const path = resolve(dir);
  const fail = (what: string): never => {
    throw new UsageError(`--artifacts ${dir}: ${what}`);
  };
  const link = await lstat(path).catch(() => undefined);
  if (link) {
    const target = await stat(path).catch(() => undefined);
    if (!target) fail('is a symbolic link to nothing');
    if (!target!.isDirectory()) fail('is not a directory');
    const entries = await readdir(path).catch((e: NodeJS.ErrnoException) => fail(`cannot read: ${e.code ?? e.message}`));
    const previousRun = entries.some((e) => RUN_MARKERS.includes(e));
    if (entries.length > 0 && !previousRun && !force) {
      fail(`is not empty and holds no previous run (${RUN_MARKERS.join(', ')}); pass --force to write into it anyway`);
    }
    return path;
  }
  const missing: string[] = [];
  let at = path;
  // Bounded by the path's depth: each step goes one level up until the root.
  while (!(await lstat(at).catch(() => undefined)) && dirname(at) !== at) {
    missing.unshift(at);
    at = dirname(at);
  }
  const ancestor = await stat(at).catch(() => undefined);
  if (!ancestor?.isDirectory()) fail(`${at} is not a directory`);
  for (const level of missing) {
    await mkdir(level).catch((e: NodeJS.ErrnoException) => fail(`cannot create ${level}: ${e.code ?? e.message}`));
  }
  return path;
}
