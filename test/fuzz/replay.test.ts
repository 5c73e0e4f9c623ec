import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CORPUS_DIR, readDir, REGRESSIONS_DIR } from '../../fuzz/corpus.js';
import { fuzz } from '../../fuzz/engine.js';
import { allTargets } from '../../fuzz/targets/index.js';
import { describe as describeError } from '../../fuzz/target.js';

const targets = allTargets();
afterAll(async () => {
  for (const t of targets) await t.close?.();
});

/** What a replay found: the file and the broken property, one line each. */
async function failures(t: (typeof targets)[number], dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const f of readDir(dir)) {
    try {
      await t.check(f.bytes);
    } catch (e) {
      out.push(`${f.path}: ${describeError(e).split('\n')[0]}`);
    }
  }
  return out;
}

describe('fuzz corpus replay', () => {
  it('has a corpus or regression directory only for targets that exist', () => {
    const names = new Set(targets.flatMap((t) => [t.name, ...(t.corpus ?? [])]));
    for (const dir of [CORPUS_DIR, REGRESSIONS_DIR].filter(existsSync)) {
      for (const d of readdirSync(dir)) expect(names, `${dir}/${d}`).toContain(d);
    }
  });

  for (const t of targets) {
    it(`${t.name}: every regression input keeps the target's properties`, async () => {
      expect(await failures(t, join(REGRESSIONS_DIR, t.name))).toEqual([]);
    });
    it(`${t.name}: every seed input keeps the target's properties`, async () => {
      const dirs = t.corpus ?? [t.name];
      const found = (await Promise.all(dirs.map((d) => failures(t, join(CORPUS_DIR, d))))).flat();
      expect(found).toEqual([]);
    });
  }
});

describe('fuzz engine', () => {
  it('finds a planted bug and hands back the input that triggers it', async () => {
    const planted = {
      name: 'planted',
      about: 'throws a TypeError on inputs starting 0xde 0xad',
      check: (b: Uint8Array): string => {
        if (b[0] === 0xde && b[1] === 0xad) throw new TypeError('planted');
        return `len:${Math.min(b.length, 4)}`;
      },
      dictionary: [Uint8Array.of(0xde)],
    };
    const r = await fuzz(planted, { runs: 200_000, seed: 3, seeds: [Uint8Array.of(0xde, 0)] });
    expect(r.finding?.error).toBeInstanceOf(TypeError);
    expect(Array.from(r.finding!.input.subarray(0, 2))).toEqual([0xde, 0xad]);
  });

  it('runs exactly the number of inputs asked for when nothing is found', async () => {
    let n = 0;
    const r = await fuzz({ name: 'count', about: 'counts', check: () => String(n++ % 3) }, { runs: 5000, seed: 1, seeds: [Uint8Array.of(1)] });
    expect(r.finding).toBeUndefined();
    expect([r.executed, n]).toEqual([5000, 5000]);
  });
});
