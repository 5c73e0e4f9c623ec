import type { z } from 'zod';

/**
 * Did-you-mean for a key a strict object does not know: the known key nearest by edit
 * distance, if it is near enough to be a typo (`trusts` → `trust`, `devcies` → `devices`).
 */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const budget = Math.max(2, Math.floor(key.length / 3));
  let best: { key: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d <= budget && (!best || d < best.d)) best = { key: k, d };
  }
  // A key cut short (`lease` for `leaseTime`) is far by edit distance but plainly meant.
  return best?.key ?? (key.length >= 3 ? known.find((k) => k.toLowerCase().startsWith(key.toLowerCase())) : undefined);
}

/** Levenshtein distance, two rows at a time. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

interface ZodDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
  getter?: () => z.ZodType;
}

const defOf = (s: z.ZodType): ZodDef => (s as unknown as { _zod: { def: ZodDef } })._zod.def;

/**
 * The keys an object schema knows at `path` of the document (array indexes step into the
 * element; wrappers such as default, optional and transform are looked through; a union
 * offers the keys of every object it may be). Empty when the path leads to no object.
 */
export function knownKeysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  const keys = new Set<string>();
  // Bounded: each step consumes a path element or unwraps one wrapper of a finite schema.
  const walk = (s: z.ZodType, at: number, depth: number): void => {
    if (depth > 64) return;
    const def = defOf(s);
    switch (def.type) {
      case 'default': case 'optional': case 'nullable': case 'prefault': case 'readonly': case 'catch': case 'nonoptional':
        if (def.innerType) walk(def.innerType, at, depth + 1);
        return;
      case 'pipe':
        if (def.in) walk(def.in, at, depth + 1);
        return;
      case 'lazy':
        if (def.getter) walk(def.getter(), at, depth + 1);
        return;
      case 'union':
        for (const o of def.options ?? []) walk(o, at, depth + 1);
        return;
      case 'array':
        if (at < path.length && typeof path[at] === 'number' && def.element) walk(def.element, at + 1, depth + 1);
        return;
      case 'object': {
        const shape = def.shape ?? {};
        if (at === path.length) {
          for (const k of Object.keys(shape)) keys.add(k);
          return;
        }
        const step = path[at];
        const next = typeof step === 'string' ? shape[step] : undefined;
        if (next) walk(next, at + 1, depth + 1);
        return;
      }
      default:
        return;
    }
  };
  walk(schema, 0, 0);
  return [...keys];
}
