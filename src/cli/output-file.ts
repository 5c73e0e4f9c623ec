import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/**
 * Checks, before a run starts, that a file named by a flag can be written where it says:
 * its directory exists and it is not itself a directory. A run that fails at its end
 * because of a typo in `--junit` would waste the whole run.
 */
export async function checkOutputFile(flag: string, file: string): Promise<string> {
  const path = resolve(file);
  const dir = dirname(path);
  const d = await stat(dir).catch(() => undefined);
  if (!d?.isDirectory()) throw new UsageError(`${flag} ${file}: no directory ${dir}`);
  const f = await stat(path).catch(() => undefined);
  if (f?.isDirectory()) throw new UsageError(`${flag} ${file}: is a directory`);
  return path;
}
