// Builds dist/ and leaves the bin executable: tsc writes dist/cli/bin.js with mode 0644, so
// on a fresh clone `npx bootlab` said "Permission denied".
// With --if-stale (npm's prestart) it compiles only when a source is newer than the last
// build, so `npm start` on a built checkout runs the CLI at once instead of re-running tsc.
// Plain Node on purpose: it runs at `npm ci` (prepare), before anything else is built.
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const stamp = join(root, 'dist', '.build-stamp');
const bin = join(root, 'dist', 'cli', 'bin.js');
// What the build reads: a change to any of them makes dist/ stale.
const inputs = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted or renamed file changes its directory's mtime
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

function mtimeOrZero(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function isStale() {
  const built = Math.min(mtimeOrZero(stamp), mtimeOrZero(bin));
  if (built === 0) return true;
  return inputs.some((p) => newestMtime(join(root, p)) > built);
}

if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);

// Stamped with the start time: a source saved while tsc runs still counts as newer.
const started = new Date();
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
chmodSync(bin, 0o755);
writeFileSync(stamp, `${started.toISOString()}\n`);
utimesSync(stamp, started, started);
