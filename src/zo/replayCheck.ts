/**
 * Comparing replayed parameters with a run's checkpoint. On the backend the run used, replay repeats
 * the same float32 operations in the same order, so the answer is "bit for bit" or a bug. On another
 * backend the same arithmetic may round differently (a fused multiply-add, another summation
 * order), so the right question is whether the difference is explained by float32 rounding.
 *
 * Rounding bound: every logged step touches each trainable value in 3q + 1 in-place passes (per
 * query: perturb +εz, perturb −2εz, restore +εz; then the update), q = the step's seed count. Each
 * pass rounds a product and a sum, each to within u = 2⁻²⁴ relative (round to nearest), and the
 * two backends can each err in opposite directions, so after P passes two float32 trajectories
 * differ by at most 2 · 2u · P · max|θ| per value (first order in u; max|θ| over the tensor bounds
 * every intermediate magnitude up to the small εz terms). The bound is reported with the measured
 * differences; a difference beyond it is not rounding.
 */

/** Machine unit roundoff of float32 (half an ulp of 1). */
export const FLOAT32_UNIT_ROUNDOFF = 2 ** -24;

export interface ReplayComparison {
  bitIdentical: boolean;
  maxAbsDiff: number;
  /** max over values of |Δ| / |reference| (values whose reference is 0 are skipped). */
  maxRelDiff: number;
  /** in-place passes per value over the replayed steps (Σ 3q + 1). */
  passes: number;
  /** largest difference float32 rounding explains (see above); the worst tensor's. */
  roundingBound: number;
  withinRounding: boolean;
}

/** Σ over steps of (3 · queries + 1): the in-place passes each trainable value went through. */
export function inPlacePasses(steps: readonly { seeds: readonly number[] }[]): number {
  return steps.reduce((total, step) => total + 3 * Math.max(1, step.seeds.length) + 1, 0);
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/** Compares tensors pairwise by name; `pairs` holds [replayed, reference] of equal length. */
export function compareReplayed(pairs: readonly (readonly [Float32Array, Float32Array])[], passes: number): ReplayComparison {
  let bitIdentical = true;
  let maxAbsDiff = 0;
  let maxRelDiff = 0;
  let roundingBound = 0;
  let withinRounding = true;
  for (const [mine, theirs] of pairs) {
    if (sameBits(mine, theirs)) continue;
    bitIdentical = false;
    let scale = 0;
    for (let i = 0; i < theirs.length; i++) scale = Math.max(scale, Math.abs(theirs[i]!), Math.abs(mine[i]!));
    const bound = 4 * FLOAT32_UNIT_ROUNDOFF * passes * scale;
    roundingBound = Math.max(roundingBound, bound);
    for (let i = 0; i < mine.length; i++) {
      const diff = Math.abs(mine[i]! - theirs[i]!);
      // NaN differences (a NaN on one side) are never rounding
      if (!(diff <= bound)) withinRounding = false;
      if (Number.isNaN(diff)) maxAbsDiff = Number.NaN;
      else maxAbsDiff = Math.max(maxAbsDiff, diff);
      if (theirs[i] !== 0 && Number.isFinite(diff)) maxRelDiff = Math.max(maxRelDiff, diff / Math.abs(theirs[i]!));
    }
  }
  return { bitIdentical, maxAbsDiff, maxRelDiff, passes, roundingBound, withinRounding };
}
