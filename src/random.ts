/**
 * Seeded random source (xoshiro128**), so that xids, jitter and injected faults replay
 * exactly for a given scenario seed. Never use Math.random in the emulator.
 */
export interface Random {
  /** Uniform unsigned 32-bit integer. */
  u32(): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** A child source with its own stream (e.g. one per device), deterministic from this one. */
  fork(label: string): Random;
}

export class SeededRandom implements Random {
  private s: Uint32Array;

  constructor(seed: number | string) {
    let h = typeof seed === 'number' ? seed >>> 0 : hashString(seed);
    // splitmix32 spreads a small seed over the 128-bit state so nearby seeds diverge at once.
    const next = (): number => {
      h = (h + 0x9e3779b9) >>> 0;
      let z = h;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = new Uint32Array([next(), next(), next(), next()]);
  }

  u32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  float(): number {
    return this.u32() / 0x1_0000_0000;
  }

  fork(label: string): Random {
    return new SeededRandom((this.u32() ^ hashString(label)) >>> 0);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function hashString(s: string): number {
  // FNV-1a: stable across runs and platforms.
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
