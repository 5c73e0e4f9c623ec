/**
 * One slice of a fleet for one machine: `--shard 2/3` runs the devices whose place in the
 * fleet is 1, 4, 7, … (index mod 3 = 1). Cutting by index, not by ranges, spreads every
 * template over all shards, so shards are balanced and each runs the same mix of cases.
 */
export interface Shard {
  /** 1-based, as job runners count (a Kubernetes Indexed Job's index + 1). */
  index: number;
  count: number;
}

export const MAX_SHARDS = 10_000;

/** Parses `i/n` (1 ≤ i ≤ n ≤ MAX_SHARDS); throws a RangeError saying what is wrong. */
export function parseShard(text: string): Shard {
  const m = /^(\d{1,5})\/(\d{1,5})$/.exec(text);
  if (!m) throw new RangeError(`"${text}" is not i/n (e.g. 2/3)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) throw new RangeError(`${count} shards: from 1 to ${MAX_SHARDS}`);
  if (index < 1 || index > count) throw new RangeError(`shard ${index} of ${count}: i is from 1 to ${count}`);
  return { index, count };
}

export function shardOf<T extends { index: number }>(devices: readonly T[], shard: Shard): T[] {
  return devices.filter((d) => d.index % shard.count === shard.index - 1);
}
