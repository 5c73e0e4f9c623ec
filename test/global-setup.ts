import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * The CLI tests run dist/cli/bin.js, exactly what `npm start` and the bin entry run: build it
 * once, the way `npm run build` does (executable bin), and only when src/ is newer than dist/.
 */
export default async function setup(): Promise<void> {
  await promisify(execFile)(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: new URL('../', import.meta.url).pathname });
}
