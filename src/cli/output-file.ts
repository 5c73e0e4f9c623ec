import { constants, openSync } from 'node:fs';
import { access, stat } from 'node:fs/promises';
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
  // Caught now, not after the run: a file or directory that this user cannot write.
  const denied = await access(f ? path : dir, constants.W_OK).then(() => false, () => true);
  if (denied) throw new UsageError(`${flag} ${file}: not writable`);
  return path;
}

/** Opens (truncates) a checked output file now; a file that cannot be written is named with its flag. */
export async function openOutputFile(flag: string, given: string, path: string): Promise<number> {
  try {
    // A plain descriptor, handed to createWriteStream; a FileHandle would be closed when collected.
    return openSync(path, 'w');
  } catch (e) {
    throw new UsageError(`${flag} ${given}: cannot write: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
