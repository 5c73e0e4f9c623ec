/**
 * The fuzz loop. Jazzer.js's prebuilt libFuzzer addon needs glibc 2.38 and the machines
 * here have 2.36, so coverage guidance comes from no native hook: the loop mutates a
 * corpus libFuzzer-style and keeps every input whose *outcome* (which error code at which
 * field, or which decoded shape) it has not seen before. fast-check supplies the
 * generated inputs (random bytes and each target's structured arbitrary).
 */
import fc from 'fast-check';
import { Prng } from './prng.js';
import { mutate } from './mutate.js';
import type { FuzzTarget } from './target.js';

export interface FuzzRun {
  runs: number;
  seed: number;
  /** Seed inputs (the corpus directory, fixtures); at least one. */
  seeds: Uint8Array[];
  /** Stop after this many milliseconds even if `runs` is not reached (0: no limit). */
  maxMs?: number;
  /** Go on after a finding, keeping the first input of each kind of failure (libFuzzer's -keep_going). */
  keepGoing?: boolean;
}

export interface FuzzFinding {
  input: Uint8Array;
  error: unknown;
  iteration: number;
}

export interface FuzzResult {
  executed: number;
  ms: number;
  corpusSize: number;
  outcomes: number;
  /** The first finding; with keepGoing, the first of each kind in `findings` too. */
  finding?: FuzzFinding;
  findings: FuzzFinding[];
}

/** Share of inputs that fast-check generates instead of the mutator (1 in N). */
const GENERATE_ONE_IN = 10;
const GENERATED_BATCH = 256;
const MAX_CORPUS = 2048;

export async function fuzz(target: FuzzTarget, run: FuzzRun): Promise<FuzzResult> {
  const rng = new Prng(run.seed);
  const corpus: Uint8Array[] = run.seeds.length > 0 ? [...run.seeds] : [new Uint8Array(0)];
  const seen = new Set<string>();
  const started = performance.now();
  const maxLen = target.maxLen ?? 4096;
  const arbitrary = fc.oneof(fc.uint8Array({ maxLength: Math.min(maxLen, 1024) }), ...(target.arbitrary ? [target.arbitrary] : []));
  let generated: Uint8Array[] = [];
  let batch = 0;
  const findings: FuzzFinding[] = [];
  const kinds = new Set<string>();
  const result = (executed: number): FuzzResult => ({
    executed,
    ms: performance.now() - started,
    corpusSize: corpus.length,
    outcomes: seen.size,
    ...(findings[0] ? { finding: findings[0] } : {}),
    findings,
  });
  /** True when the run must stop here. */
  const found = (f: FuzzFinding): boolean => {
    const kind = failureKind(f.error);
    if (!kinds.has(kind)) {
      kinds.add(kind);
      findings.push(f);
    }
    return !run.keepGoing;
  };

  // Every seed first, as it is: a seed that already fails is the first finding.
  for (const [i, s] of run.seeds.entries()) {
    const f = await once(target, s, seen, i);
    if (f && found(f)) return result(i + 1);
  }
  for (let i = run.seeds.length; i < run.runs; i++) {
    let input: Uint8Array;
    if (rng.below(GENERATE_ONE_IN) === 0) {
      if (generated.length === 0) generated = fc.sample(arbitrary, { seed: run.seed + batch++, numRuns: GENERATED_BATCH });
      input = generated.pop()!;
    } else {
      input = mutate(corpus[rng.below(corpus.length)]!, rng, { maxLen, dictionary: target.dictionary ?? [], other: () => corpus[rng.below(corpus.length)]! });
    }
    const before = seen.size;
    const f = await once(target, input, seen, i);
    if (f) {
      if (found(f)) return result(i + 1);
      continue;
    }
    if (seen.size > before) {
      if (corpus.length < MAX_CORPUS) corpus.push(input);
      else corpus[run.seeds.length + rng.below(MAX_CORPUS - run.seeds.length)] = input;
    }
    if (run.maxMs && (i & 1023) === 0 && performance.now() - started > run.maxMs) return result(i + 1);
  }
  return result(run.runs);
}

async function once(target: FuzzTarget, input: Uint8Array, seen: Set<string>, iteration: number): Promise<FuzzFinding | undefined> {
  try {
    const outcome = target.check(input);
    seen.add(typeof outcome === 'string' ? outcome : await outcome);
    return undefined;
  } catch (error) {
    return { input, error, iteration };
  }
}

/**
 * Deletes chunks of a failing input while it still fails with the same kind of error, so
 * a regression file shows the bug and little else. Bounded in attempts.
 */
export async function minimize(target: FuzzTarget, input: Uint8Array, error: unknown, maxAttempts = 4000): Promise<Uint8Array> {
  const kind = failureKind(error);
  const fails = async (b: Uint8Array): Promise<boolean> => {
    try {
      await target.check(b);
      return false;
    } catch (e) {
      return failureKind(e) === kind;
    }
  };
  let best = input;
  let attempts = 0;
  for (let chunk = best.length >> 1; chunk >= 1 && attempts < maxAttempts; chunk >>= 1) {
    for (let at = 0; at + chunk <= best.length && attempts < maxAttempts; ) {
      const cand = new Uint8Array(best.length - chunk);
      cand.set(best.subarray(0, at), 0);
      cand.set(best.subarray(at + chunk), at);
      attempts++;
      if (await fails(cand)) best = cand;
      else at += chunk;
    }
  }
  return best;
}

/** What makes two failures the same bug for minimizing: the error class and the first line up to digits. */
export function failureKind(e: unknown): string {
  const name = e instanceof Error ? e.constructor.name : typeof e;
  const msg = e instanceof Error ? e.message : String(e);
  return `${name}:${(msg.split('\n')[0] ?? '').replace(/\d+/g, '#').slice(0, 80)}`;
}
