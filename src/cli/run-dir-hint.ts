import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** How many device ids the hint lists: enough to copy one, few enough for one line. */
const LISTED_DEVICES = 3;

/**
 * When `dir` is a run's artifacts root (report.json and one subdirectory per device, each
 * with its quote.msg) rather than one device's evidence, says so in one line and names a
 * few devices to verify instead; undefined for any other directory.
 */
export async function runDirHint(dir: string): Promise<string | undefined> {
  const isFile = async (p: string): Promise<boolean> => (await stat(p).catch(() => undefined))?.isFile() === true;
  if (await isFile(join(dir, 'quote.msg'))) return undefined;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return undefined;
  const devices: string[] = [];
  for (const e of entries.filter((x) => x.isDirectory() && !x.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))) {
    if (await isFile(join(dir, e.name, 'quote.msg'))) devices.push(e.name);
  }
  if (devices.length === 0) return undefined;
  const listed = devices.slice(0, LISTED_DEVICES).join(', ');
  const more = devices.length > LISTED_DEVICES ? ` and ${devices.length - LISTED_DEVICES} more` : '';
  return `${dir} is a run's artifacts directory: verify one device, e.g. ${join(dir, devices[0]!)} (devices: ${listed}${more})`;
}
