/**
 * `npm run fuzz -- [--runs N] [--target NAME]… [--seed N] [--max-seconds S] [--keep-going] [--list] [--replay FILE]`
 *
 * Runs every target (or the named ones) for N inputs each (default 1,000,000, or
 * FUZZ_RUNS), one after the other. A finding is minimized, written under fuzz/findings/,
 * and printed with the target's name and the file's path; the run goes on with the next
 * target and exits 1 at the end. Exit 2: bad arguments.
 */
import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { seedsFor, writeFinding } from './corpus.js';
import { fuzz, minimize } from './engine.js';
import { allTargets } from './targets/index.js';
import { describe, type FuzzTarget } from './target.js';
import { readFileSync } from 'node:fs';

const DEFAULT_RUNS = 1_000_000;

function fail(message: string): never {
  console.error(`fuzz: ${message}`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        runs: { type: 'string' },
        target: { type: 'string', multiple: true },
        seed: { type: 'string', default: '1' },
        'max-seconds': { type: 'string' },
        list: { type: 'boolean', default: false },
        replay: { type: 'string' },
        'keep-going': { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    return fail((e as Error).message);
  }
})();

const int = (name: string, text: string | undefined, fallback: number): number => {
  if (text === undefined || text === '') return fallback;
  const n = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 0) fail(`--${name} ${text}: not a whole number`);
  return n;
};

const runs = int('runs', values.runs ?? process.env['FUZZ_RUNS'], DEFAULT_RUNS);
const seed = int('seed', values.seed, 1);
const maxMs = int('max-seconds', values['max-seconds'] ?? process.env['FUZZ_MAX_SECONDS'], 0) * 1000;
const targets = allTargets();
const names = (values.target ?? []).flatMap((t) => t.split(','));
for (const n of names) if (!targets.some((t) => t.name === n)) fail(`no target ${n}; targets: ${targets.map((t) => t.name).join(', ')}`);
const chosen = names.length > 0 ? targets.filter((t) => names.includes(t.name)) : targets;

if (values.list) {
  for (const t of targets) console.log(`${t.name.padEnd(20)} ${t.about}`);
  process.exit(0);
}

// A rejection nobody handles (a server's async path) is a finding of the target running now.
let stray: unknown;
process.on('unhandledRejection', (e) => (stray = e));

async function replay(t: FuzzTarget, file: string): Promise<number> {
  try {
    const signature = await t.check(new Uint8Array(readFileSync(file)));
    console.log(`${t.name}: ${file}: passes (${signature})`);
    return 0;
  } catch (e) {
    console.log(`${t.name}: ${file}: FAILS: ${describe(e)}`);
    return 1;
  } finally {
    await t.close?.();
  }
}

async function main(): Promise<number> {
  if (values.replay !== undefined) {
    if (chosen.length !== 1) fail('--replay needs exactly one --target');
    return replay(chosen[0]!, values.replay);
  }
  let failed = 0;
  const total = performance.now();
  for (const t of chosen) {
    const seeds = seedsFor(t);
    stray = undefined;
    const r = await fuzz(t, { runs, seed, seeds: seeds.map((s) => s.bytes), maxMs, keepGoing: values['keep-going'] });
    await t.close?.();
    const all = [...r.findings, ...(stray !== undefined ? [{ input: new Uint8Array(0), error: stray, iteration: r.executed }] : [])];
    const rate = r.executed / Math.max(r.ms / 1000, 1e-3);
    const stats = `${r.executed.toLocaleString('en-US')} inputs in ${(r.ms / 1000).toFixed(1)} s (${Math.round(rate).toLocaleString('en-US')}/s), ${seeds.length} seeds, ${r.outcomes} outcomes, corpus ${r.corpusSize}`;
    if (all.length === 0) {
      console.log(`${t.name}: ok: ${stats}`);
      continue;
    }
    failed++;
    console.log(`${t.name}: FINDING${all.length > 1 ? `S (${all.length} kinds)` : ''} after ${stats}`);
    for (const finding of all) {
      const small = finding.input.length > 0 ? await minimize(t, finding.input, finding.error) : finding.input;
      const path = relative(process.cwd(), writeFinding(t.name, small));
      console.log(`  ${describe(finding.error).split('\n').join('\n  ')}`);
      console.log(`  input: ${path} (${small.length} bytes, minimized from ${finding.input.length})`);
      console.log(`  replay: npm run fuzz -- --target ${t.name} --replay ${path}`);
    }
    await t.close?.();
  }
  console.log(`fuzz: ${chosen.length - failed} of ${chosen.length} targets clean, ${failed} with findings, ${((performance.now() - total) / 1000).toFixed(1)} s`);
  return failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`fuzz: ${describe(e)}`);
    process.exit(1);
  },
);
