import { describe, expect, it } from 'vitest';
import { parseShard, shardOf } from '../../src/fleet/shard.js';

describe('shards', () => {
  it('parses i/n and says what is wrong otherwise', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(() => parseShard('0/3')).toThrow('shard 0 of 3: i is from 1 to 3');
    expect(() => parseShard('4/3')).toThrow('shard 4 of 3');
    expect(() => parseShard('1/0')).toThrow('0 shards: from 1 to 10000');
    expect(() => parseShard('two')).toThrow('"two" is not i/n');
  });

  it('cuts by place in the fleet, so every shard gets its share of every template', () => {
    const fleet = [...Array.from({ length: 9 }, (_, i) => ({ index: i, t: 'leaf' })), ...Array.from({ length: 3 }, (_, i) => ({ index: 9 + i, t: 'spine' }))];
    const shards = [1, 2, 3].map((index) => shardOf(fleet, { index, count: 3 }));
    expect(shards.map((s) => s.map((d) => d.index))).toEqual([
      [0, 3, 6, 9],
      [1, 4, 7, 10],
      [2, 5, 8, 11],
    ]);
    for (const s of shards) expect(s.filter((d) => d.t === 'spine')).toHaveLength(1);
    expect(shards.flat()).toHaveLength(fleet.length);
  });
});
