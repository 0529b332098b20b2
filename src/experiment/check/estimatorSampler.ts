/**
 * An `EstimateSampler` (src/assumptions/estimatorQuality.ts) built from a registered ZO estimator's
 * own parts, so the checker measures exactly what training would use:
 *
 *   for each of the schedule's q queries (q at step 0):
 *     seed      ← the estimator's host seed stream (as `estimator.step` draws it)
 *     Z         ← perturbation.direction(ctx, state, seed), materialised densely on the host by
 *                 Z.addTo(param, zeroBuffer, 1) per trainable tensor
 *     losses    ← the loss at θ + p·ε·Z for every point p of the difference scheme (θ written back
 *                 bit for bit after each evaluation), plus L(θ) once when the scheme needs it
 *     c         ← difference.projectedGradient(losses, L(θ), ε)
 *   ĝ = (1/q) Σ_j c_j · s·Z_j
 *
 * No optimizer runs and no update is applied; the store holds the starting θ when a draw returns.
 *
 * Conventions. LOZO in zolo follows the official code (update −η·c·U Vᵀ, no 1/r), so its raw
 * estimate c·U Vᵀ has mean r·G on matrices. With `paperScaling` (default) the sampler applies the
 * paper's 1/r to every low-rank tensor (s = 1/r; s = 1 for 1-D tensors, which get Gaussian z), so
 * ĝ is unbiased and comparable with g; without it the raw code-convention estimate is returned.
 * LOZO's V is kept for ν steps during training; by default every draw starts a new ν-window
 * (`freshFactors`), so draws sample U and V jointly — the distribution the dimension-factor
 * formula assumes. With freshFactors = false all draws share window 0's V: since E_U[⟨UVᵀ, G⟩U] = GV,
 * the mean then converges to G·VVᵀ/r for that V, not to G (what one lazy window can see).
 */
import { ConfigError } from '../../errors.ts';
import type { EstimateSampler } from '../../assumptions/estimatorQuality.ts';
import type { Estimator, EstimatorState } from '../../zo/estimator.ts';
import { isLowRankDirection } from '../../zo/perturbations/lowRank.ts';
import type { Direction } from '../../zo/types.ts';
import { averagedDimensionFactor, combinedDimensionFactor, type TensorNoise } from './dimensionFactor.ts';
import type { ModelProblem } from './problem.ts';

export interface EstimatorSamplerOptions {
  /** run seed for the estimator (host seed stream, LOZO's V windows). */
  seed: number;
  /** apply LOZO's 1/r (paper convention) so the estimate is unbiased; default true. */
  paperScaling?: boolean;
  /** a new LOZO ν-window (new V) for every draw; default true. */
  freshFactors?: boolean;
  /** queries averaged per draw; default the estimator's schedule at step 0 (MeZO 1, AdaZeta Q(0) = 1). */
  queries?: number;
}

export interface EstimatorSampler {
  sample: EstimateSampler;
  /** q, queries averaged per draw. */
  queries: number;
  eps: number;
  /** theoretical E‖ĝ‖²/‖g‖² for the gradient's split over tensors, or null when no formula applies. */
  theory(gradient: Float64Array): number | null;
  /** forward passes spent so far. */
  forwardPasses(): number;
  dispose(): void;
}

async function materialise(problem: ModelProblem, direction: Direction, paperScaling: boolean): Promise<Float64Array> {
  const out = new Float64Array(problem.dim);
  const engine = problem.objective.params.engine;
  for (const { param, offset } of problem.slices) {
    const buffer = engine.zeros(param.tensor.shape, 'workspace');
    direction.addTo(param, buffer, 1);
    const values = await buffer.read();
    buffer.dispose();
    const factors = paperScaling && isLowRankDirection(direction) ? direction.factors(param) : undefined;
    const scale = factors ? 1 / factors.rank : 1;
    for (let i = 0; i < values.length; i++) out[offset + i] = scale * values[i]!;
  }
  return out;
}

export function estimatorSampler(estimator: Estimator, problem: ModelProblem, options: EstimatorSamplerOptions): EstimatorSampler {
  const { perturbation, schedule, difference } = estimator.parts;
  const paperScaling = options.paperScaling ?? true;
  const freshFactors = options.freshFactors ?? true;
  const store = problem.objective.params;
  let state: EstimatorState = estimator.init(store, { seed: options.seed });
  const scheduled = schedule.queries(state.schedule, { step: 0, epoch: 0 }, estimator.partOptions.schedule);
  const queries = options.queries ?? scheduled.queries;
  if (!Number.isInteger(queries) || queries < 1) throw new ConfigError(`estimatorSampler: queries must be a positive integer, got ${queries}`);
  const eps = estimator.options.eps!;
  const interval = estimator.options.interval ?? 1;
  let forwardPasses = 0;
  const evaluate = async (): Promise<number> => {
    forwardPasses++;
    const loss = await problem.objective.loss();
    if (!Number.isFinite(loss)) throw new ConfigError(`estimator check: the loss is ${loss} at a perturbed point; try a smaller estimator eps`);
    return loss;
  };
  const shift = (direction: Direction, scale: number): void => {
    for (const { param } of problem.slices) direction.addTo(param, param.tensor, scale);
  };

  const sample: EstimateSampler = async (draw) => {
    const step = freshFactors ? draw * interval : 0;
    let perturbationState = perturbation.beginStep(state.contexts.perturbation, state.perturbation, step);
    state = { ...state, perturbation: perturbationState };
    problem.restore();
    const baseLoss = difference.needsBaseLoss ? await evaluate() : null;
    const estimate = new Float64Array(problem.dim);
    for (let j = 0; j < queries; j++) {
      const direction = await perturbation.direction(state.contexts.perturbation, perturbationState, state.nextSeed.next());
      const losses: number[] = [];
      for (const point of difference.points) {
        shift(direction, point * eps);
        try {
          losses.push(await evaluate());
        } finally {
          problem.restore();
        }
      }
      const c = difference.projectedGradient(losses, baseLoss, eps);
      const z = await materialise(problem, direction, paperScaling);
      for (let i = 0; i < z.length; i++) estimate[i]! += (c * z[i]!) / queries;
    }
    perturbationState = perturbation.endStep(perturbationState);
    state = { ...state, perturbation: perturbationState };
    return estimate;
  };

  const noiseOf = (index: number): TensorNoise | null => {
    const { param, size } = problem.slices[index]!;
    const name = perturbation.name;
    if (perturbation.lowRank && param.tensor.rank >= 2) {
      const rows = param.tensor.shape[0]!;
      return { kind: 'lowRank', rows, cols: size / rows, rank: estimator.options.rank! };
    }
    if (name === 'gaussian' || perturbation.lowRank) return { kind: 'gaussian', size };
    if (name === 'rademacher') return { kind: 'rademacher', size };
    return null;
  };

  return {
    sample,
    queries,
    eps,
    theory(gradient) {
      if (perturbation.name === 'sphere') return averagedDimensionFactor(problem.dim, queries);
      const terms = problem.slices.map((slice, k) => {
        let energy = 0;
        for (let i = slice.offset; i < slice.offset + slice.size; i++) energy += gradient[i]! ** 2;
        return { noise: noiseOf(k), gradientEnergy: energy };
      });
      if (terms.some((t) => t.noise === null)) return null;
      const single = combinedDimensionFactor(terms as { noise: TensorNoise; gradientEnergy: number }[], paperScaling);
      // averaging q queries divides the excess over ‖g‖² only for an unbiased estimate
      const unbiased = paperScaling || !perturbation.lowRank;
      return queries === 1 ? single : unbiased ? averagedDimensionFactor(single, queries) : null;
    },
    forwardPasses: () => forwardPasses,
    dispose() {
      problem.restore();
      estimator.dispose(state);
    },
  };
}
