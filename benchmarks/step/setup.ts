/** What bench:step and bench:profile share: the batch, MeZO's settings, and the fixed batch of ids. */
import type { ClassificationBatch } from '../../src/nn/index.ts';

export const BATCH = 16;
/** MeZO's paper defaults (zo-estimators.md §2.1), the same as torch_peer.py's. */
export const EPS = 1e-3;
export const LR = 1e-6;

/** A deterministic batch of the preset's shape (ids from a fixed LCG, labels alternate). */
export function makeBatch(vocab: number, seq: number): ClassificationBatch {
  let state = 12345;
  const ids = Int32Array.from({ length: BATCH * seq }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state >>> 8) % vocab;
  });
  return { ids, batch: BATCH, seq, labels: Int32Array.from({ length: BATCH }, (_, i) => i % 2) };
}
