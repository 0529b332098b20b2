import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { shardLayout, withoutRank, type RowRange } from '../../src/distributed/shards.ts';

const RUNS = { seed: 1806, numRuns: 300 };

/** The owner of every row, or a failure when a row is owned twice or not at all. */
function owners(layout: readonly RowRange[], batchSize: number): number[] {
  const owner = new Array<number>(batchSize).fill(-1);
  for (const range of layout) {
    for (let row = range.start; row < range.start + range.count; row++) {
      expect(owner[row]).toBe(-1);
      owner[row] = range.rank;
    }
  }
  expect(owner).not.toContain(-1);
  return owner;
}

const members = fc.uniqueArray(fc.integer({ min: 0, max: 63 }), { minLength: 1, maxLength: 12 }).map((ranks) => ranks.sort((a, b) => a - b));

describe('shard layout', () => {
  test.prop([fc.integer({ min: 1, max: 300 }), members], RUNS)('covers every row once, in rank order, shards differing by at most one row', (batchSize, ranks) => {
    const layout = shardLayout(batchSize, ranks);
    const owner = owners(layout, batchSize);
    // batch order = rank order: concatenating the shards by rank gives the batch back
    expect(owner).toEqual([...owner].sort((a, b) => a - b));
    const sizes = ranks.map((rank) => layout.filter((range) => range.rank === rank).reduce((sum, range) => sum + range.count, 0));
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  test.prop([fc.integer({ min: 1, max: 300 }), members.filter((ranks) => ranks.length >= 2), fc.nat()], RUNS)(
    'a drop gives the dropped rows to the others and moves no other row',
    (batchSize, ranks, pick) => {
      const dropped = ranks[pick % ranks.length]!;
      const before = owners(shardLayout(batchSize, ranks), batchSize);
      const after = owners(withoutRank(shardLayout(batchSize, ranks), ranks, dropped), batchSize);
      before.forEach((rank, row) => {
        if (rank === dropped) expect(after[row]).not.toBe(dropped);
        else expect(after[row]).toBe(rank);
      });
    },
  );

  it('refuses layouts that cannot exist', () => {
    expect(() => shardLayout(0, [0])).toThrow('batchSize must be a positive integer, got 0');
    expect(() => shardLayout(4, [])).toThrow('at least one member');
    expect(() => withoutRank(shardLayout(4, [0]), [0], 0)).toThrow('rank 0 cannot be dropped');
  });
});
