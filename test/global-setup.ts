import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** The CLI tests run dist/cli/bin.js, exactly what `npm start` and the bin entry run: build it once. */
export default async function setup(): Promise<void> {
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: new URL('../', import.meta.url).pathname });
}
