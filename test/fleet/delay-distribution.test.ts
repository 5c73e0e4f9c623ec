import { describe, expect, it } from 'vitest';
import { sampleDelay } from '../../src/fleet/delay-distribution.js';
import { SeededRandom } from '../../src/random.js';
import { parseScenario } from '../../src/scenario/load.js';

const draws = (d: Parameters<typeof sampleDelay>[0], n: number, seed = 'd'): number[] => {
  const r = new SeededRandom(seed);
  return Array.from({ length: n }, () => sampleDelay(d, r));
};

describe('delay distributions', () => {
  it('fixed is its value; the same seed replays the same draws', () => {
    expect(draws({ fixed: 1500 }, 3)).toEqual([1500, 1500, 1500]);
    expect(draws({ uniform: [10, 20] }, 50, 'x')).toEqual(draws({ uniform: [10, 20] }, 50, 'x'));
    expect(draws({ uniform: [10, 20] }, 50, 'x')).not.toEqual(draws({ uniform: [10, 20] }, 50, 'y'));
  });

  it('uniform stays in its bounds with the mean in the middle', () => {
    const xs = draws({ uniform: [1000, 3000] }, 20_000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(1000);
    expect(Math.max(...xs)).toBeLessThanOrEqual(3000);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 2000)).toBeLessThan(20);
  });

  it('triangular has mean (a+b+c)/3, its mode where the most draws fall, and its bounds', () => {
    const [a, c, b] = [1000, 2000, 7000];
    const xs = draws({ triangular: [a, c, b] }, 40_000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(a);
    expect(Math.max(...xs)).toBeLessThanOrEqual(b);
    const mean = xs.reduce((x, y) => x + y, 0) / xs.length;
    expect(Math.abs(mean - (a + b + c) / 3)).toBeLessThan(40);
    // P(X <= mode) = (c-a)/(b-a) = 1/6.
    const below = xs.filter((x) => x <= c).length / xs.length;
    expect(Math.abs(below - 1 / 6)).toBeLessThan(0.01);
    // The busiest 500 ms bin is the one holding the mode.
    const bins = new Map<number, number>();
    for (const x of xs) bins.set(Math.floor(x / 500), (bins.get(Math.floor(x / 500)) ?? 0) + 1);
    const busiest = [...bins.entries()].sort((p, q) => q[1] - p[1])[0]![0];
    expect([3, 4]).toContain(busiest);
    expect(draws({ triangular: [5, 5, 5] }, 2)).toEqual([5, 5]);
  });

  it('scenario timing takes a duration, uniform or triangular, and names a bad order', () => {
    const base = `name: t\nservers: { dhcp: { pool: { start: 192.0.2.10, end: 192.0.2.20 } } }\nimages: [{ name: nos, source: x, publish: [nos.bin] }]\ntrust: { db: [db-ca] }\n`;
    const dev = (timing: string) => `${base}devices:\n  - id: sw1\n    timing: ${timing}\n    expect: { outcome: installed }\n`;
    expect(parseScenario(dev('{ post: 30s }')).devices[0]!.timing).toEqual({ post: { fixed: 30_000 } });
    expect(parseScenario(dev('{ post: { uniform: [20s, 40s] }, nosBoot: { triangular: [1s, 2s, 9s] } }')).devices[0]!.timing).toEqual({
      post: { uniform: [20_000, 40_000] },
      nosBoot: { triangular: [1000, 2000, 9000] },
    });
    expect(() => parseScenario(dev('{ post: { triangular: [3s, 1s, 9s] } }'))).toThrow(/min <= mode <= max/);
  });
});
