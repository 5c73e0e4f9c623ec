import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FuzzTarget } from './target.js';

export const FUZZ_DIR = new URL('.', import.meta.url).pathname;
/** Seed inputs: packet payloads from the captures, encoder output, fixtures. */
export const CORPUS_DIR = join(FUZZ_DIR, 'corpus');
/** Inputs that once broke a target, kept so that `npm test` replays them. */
export const REGRESSIONS_DIR = join(FUZZ_DIR, 'regressions');
/** Where a run writes what it finds (not committed; copy a file to regressions/ to keep it). */
export const FINDINGS_DIR = join(FUZZ_DIR, 'findings');

export interface CorpusFile {
  path: string;
  bytes: Uint8Array;
}

export function readDir(dir: string): CorpusFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.') && !f.endsWith('.md'))
    .sort()
    .map((f) => ({ path: join(dir, f), bytes: new Uint8Array(readFileSync(join(dir, f))) }));
}

/** Seeds and regressions both: a fixed bug stays a good starting point. */
export function seedsFor(t: FuzzTarget): CorpusFile[] {
  const dirs = t.corpus ?? [t.name];
  return dirs.flatMap((d) => [...readDir(join(CORPUS_DIR, d)), ...readDir(join(REGRESSIONS_DIR, d))]);
}

export function writeFinding(target: string, bytes: Uint8Array): string {
  const dir = join(FINDINGS_DIR, target);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}.bin`);
  writeFileSync(path, bytes);
  return path;
}
