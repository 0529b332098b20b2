/**
 * Seeded example order shared by every task: epoch e of a run with seed s visits the examples in
 * the permutation drawn by seedrandom(`${s}:${e}`), so a run's batches are a pure function of
 * (seed, epoch, batch index) and a resumed run sees the same data it would have seen.
 */
import { ConfigError, assertPositiveInteger } from '../errors.ts';
import { seededShuffle } from './spam.ts';

/** Index used for targets/labels that must not contribute to a loss (the kernels' crossEntropy ignores target < 0). */
export const IGNORE_INDEX = -1;

export function epochOrder(count: number, seed: number, epoch: number): number[] {
  return seededShuffle(Array.from({ length: count }, (_, i) => i), `${seed}:${epoch}`);
}

/** Consecutive chunks of `order` of size `batchSize`; the last may be smaller unless `dropLast`. */
export function chunk(order: readonly number[], batchSize: number, dropLast: boolean): number[][] {
  assertPositiveInteger('batchSize', batchSize);
  const chunks: number[][] = [];
  for (let start = 0; start < order.length; start += batchSize) {
    const piece = order.slice(start, start + batchSize);
    if (piece.length < batchSize && dropLast) break;
    chunks.push(piece);
  }
  return chunks;
}

/**
 * An endless stream of training batches of exactly `batchSize` examples: epoch after epoch of
 * seeded permutations, the ragged tail of each epoch dropped. `step` counts batches from 0.
 */
export class BatchSampler {
  constructor(
    readonly count: number,
    readonly batchSize: number,
    readonly seed: number,
  ) {
    assertPositiveInteger('batchSize', batchSize);
    if (count < batchSize) throw new ConfigError(`batchSize must be at most the ${count} examples available, got ${batchSize}`);
  }

  get batchesPerEpoch(): number {
    return Math.floor(this.count / this.batchSize);
  }

  private cachedEpoch = -1;
  private cachedOrder: number[] = [];

  /** Example indices of batch number `step`. */
  indicesAt(step: number): number[] {
    const epoch = Math.floor(step / this.batchesPerEpoch);
    if (epoch !== this.cachedEpoch) {
      this.cachedOrder = epochOrder(this.count, this.seed, epoch);
      this.cachedEpoch = epoch;
    }
    const start = (step % this.batchesPerEpoch) * this.batchSize;
    return this.cachedOrder.slice(start, start + this.batchSize);
  }
}
