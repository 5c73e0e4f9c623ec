import type { Random } from '../random.js';

/**
 * How long a timed stage takes, as Ironic's fake driver draws its delays: a fixed time, a
 * uniform draw between two bounds, or a triangular one (min, most likely, max) for stages
 * that usually take about the same time but now and then run long. In ms.
 */
export type DelayDistribution = { fixed: number } | { uniform: [number, number] } | { triangular: [number, number, number] };

/** One draw, from the caller's seeded stream: the same seed gives the same delays. */
export function sampleDelay(d: DelayDistribution, random: Random): number {
  if ('fixed' in d) return d.fixed;
  const u = random.float();
  if ('uniform' in d) {
    const [lo, hi] = d.uniform;
    return Math.round(lo + u * (hi - lo));
  }
  const [a, c, b] = d.triangular;
  if (b === a) return a;
  // The inverse of the triangular CDF: left of the mode the density rises, right of it falls.
  const split = (c - a) / (b - a);
  const x = u < split ? a + Math.sqrt(u * (b - a) * (c - a)) : b - Math.sqrt((1 - u) * (b - a) * (b - c));
  return Math.round(x);
}
