/**
 * Estimator quality against the true gradient g: bias (cosine and relative error of the running mean
 * of estimates as queries grow) and the dimension factor E‖ĝ‖²/‖g‖², which sets ZO's slowdown
 * (MeZO Lemma 2). Theory for comparison:
 *   Gaussian two-point SPSA, q averaged queries:  (d + q + 1)/q            (zo-estimators.md §5.3)
 *   LOZO on one m×n matrix, rank r, with the 1/r: [r(m+2)(n+2) + r(r−1)(mn+2)]/r²   (§3.7, §5.12)
 * The sampler is any function that returns one estimate per call, so a registered zolo estimator
 * (via its estimate-only entry point) and the reference sampler below are checked the same way.
 */
import { ConfigError } from '../errors.ts';
import { normalAt } from '../kernels/rng.ts';
import type { DifferentiableProblem } from './problem.ts';
import { addScaled, cosine, dot, type MeanInterval, meanInterval } from './vectors.ts';

export type EstimateSampler = (draw: number) => Promise<Float64Array>;

export interface EstimatorQuality {
  draws: number;
  /** running mean after n draws vs g. */
  convergence: { draws: number; cosine: number; relativeError: number }[];
  /** ‖ĝ‖²/‖g‖² per draw. */
  dimensionFactor: MeanInterval;
  /** E‖ĝ − g‖²/‖g‖² (total variance relative to the gradient's energy). */
  relativeVariance: MeanInterval;
  theoreticalDimensionFactor?: number;
}

export async function estimatorQuality(
  sample: EstimateSampler, trueGradient: Float64Array,
  options: { draws: number; checkpoints?: number[]; theoreticalDimensionFactor?: number },
): Promise<EstimatorQuality> {
  const { draws } = options;
  if (!Number.isInteger(draws) || draws < 2) throw new ConfigError(`estimatorQuality: draws must be an integer ≥ 2, got ${draws}`);
  const gradientEnergy = dot(trueGradient, trueGradient);
  if (gradientEnergy === 0) throw new ConfigError('estimatorQuality: the true gradient is zero; pick a point away from a stationary point');
  const checkpoints = new Set(options.checkpoints ?? powersOfTwoUpTo(draws));
  const sum = new Float64Array(trueGradient.length);
  const factors: number[] = [];
  const variances: number[] = [];
  const convergence: EstimatorQuality['convergence'] = [];
  for (let draw = 0; draw < draws; draw++) {
    const estimate = await sample(draw);
    for (let i = 0; i < sum.length; i++) sum[i]! += estimate[i]!;
    factors.push(dot(estimate, estimate) / gradientEnergy);
    const error = addScaled(estimate, -1, trueGradient);
    variances.push(dot(error, error) / gradientEnergy);
    if (checkpoints.has(draw + 1)) {
      const meanEstimate = sum.map((s) => s / (draw + 1));
      const meanError = addScaled(meanEstimate, -1, trueGradient);
      convergence.push({ draws: draw + 1, cosine: cosine(meanEstimate, trueGradient), relativeError: Math.sqrt(dot(meanError, meanError) / gradientEnergy) });
    }
  }
  return {
    draws,
    convergence,
    dimensionFactor: meanInterval(factors),
    relativeVariance: meanInterval(variances),
    ...(options.theoreticalDimensionFactor === undefined ? {} : { theoreticalDimensionFactor: options.theoreticalDimensionFactor }),
  };
}

function powersOfTwoUpTo(n: number): number[] {
  const out: number[] = [];
  for (let k = 1; k < n; k *= 2) out.push(k);
  out.push(n);
  return out;
}

export function gaussianDimensionFactor(dim: number, queries = 1): number {
  return (dim + queries + 1) / queries;
}

export function lozoDimensionFactor(rows: number, cols: number, rank: number): number {
  return (rank * (rows + 2) * (cols + 2) + rank * (rank - 1) * (rows * cols + 2)) / (rank * rank);
}

/**
 * The textbook two-point Gaussian SPSA estimate ĝ = (f(θ+εz) − f(θ−εz))/(2ε)·z on a host problem,
 * z from the counter RNG (seed, draw): the yardstick the checkers are validated with.
 */
export function gaussianSpsaSampler(problem: DifferentiableProblem, theta: Float64Array, epsilon: number, seed: number): EstimateSampler {
  if (!(epsilon > 0)) throw new ConfigError(`gaussianSpsaSampler: epsilon must be > 0, got ${epsilon}`);
  return async (draw) => {
    const z = new Float64Array(problem.dim);
    for (let i = 0; i < z.length; i++) z[i] = normalAt(seed, draw, i);
    const plus = await problem.loss(addScaled(theta, epsilon, z));
    const minus = await problem.loss(addScaled(theta, -epsilon, z));
    const projected = (plus - minus) / (2 * epsilon);
    return z.map((zi) => projected * zi);
  };
}
