/**
 * Which replica computes which rows of a step's global batch. Rows are split into contiguous
 * shards in rank order — member i of n gets rows [⌊i·B/n⌋, ⌊(i+1)·B/n⌋) — so concatenating the
 * shards in rank order gives back the batch order, the order in which the single-process loss
 * folds its per-example losses. When a member is dropped, each of its ranges is split the same
 * way among the members that remain; who computes a row never changes its value (rows are
 * computed independently), only how the work is spread.
 */
import { ConfigError } from '../errors.ts';

/** Rows [start, start + count) of the batch, computed by `rank`. */
export interface RowRange {
  start: number;
  count: number;
  rank: number;
}

function split(start: number, count: number, ranks: readonly number[]): RowRange[] {
  const ranges: RowRange[] = [];
  ranks.forEach((rank, i) => {
    const from = start + Math.floor((i * count) / ranks.length);
    const to = start + Math.floor(((i + 1) * count) / ranks.length);
    if (to > from) ranges.push({ start: from, count: to - from, rank });
  });
  return ranges;
}

/** The batch of `batchSize` rows split among `members` (distinct ranks, ascending) in order. */
export function shardLayout(batchSize: number, members: readonly number[]): RowRange[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`batchSize must be a positive integer, got ${batchSize}`);
  if (members.length === 0) throw new ConfigError('a shard layout needs at least one member');
  return split(0, batchSize, members);
}

/**
 * `layout` of `members` after `dropped` leaves: its ranges re-split among the remaining members
 * (those without rows so far included), in rank order.
 */
export function withoutRank(layout: readonly RowRange[], members: readonly number[], dropped: number): RowRange[] {
  const remaining = members.filter((rank) => rank !== dropped);
  if (remaining.length === 0) throw new ConfigError(`rank ${dropped} cannot be dropped: no other member is left to compute its rows`);
  return layout.flatMap((range) => (range.rank === dropped ? split(range.start, range.count, remaining) : [range]));
}
