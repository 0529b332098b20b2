/**
 * ZO-SGD-Cons (ZO-Bench `zo_conserv`, zo-estimators.md §4.1): compute ĝ, evaluate the minibatch loss
 * at θ − ηĝ and θ + ηĝ, keep whichever of {θ, θ − ηĝ, θ + ηĝ} has the lowest loss. With the central
 * scheme L(θ) costs one more pass, so a q = 1 step is 5 forward passes (2 + 1 + 2), as in ZO-Bench;
 * with the one-sided scheme L(θ) is shared (4). The kept point's loss is ≤ L(θ) on the same batch
 * (§5.16). Ties prefer θ − ηĝ, then θ + ηĝ, then θ — so a flat non-differentiable objective
 * (accuracy) still moves. Points are visited by adding ±ηĝ in place (seed trick, no buffers), so the
 * returned θ equals the chosen point to float rounding.
 * Coupled weight decay has no clean meaning for a search over three points: λ > 0 is a ConfigError.
 * Bad input: a non-finite loss at any point restores θ and throws DivergenceError.
 */
import { ConfigError, DivergenceError } from '../../errors.ts';
import { addEstimate } from './stages.ts';
import type { ZoOptimizer } from '../types.ts';

export const CONSERVATIVE_POINTS = ['minus', 'plus', 'base'] as const;
type Point = (typeof CONSERVATIVE_POINTS)[number];

/** where each point sits, in multiples of ηĝ from θ. */
const POSITION: Record<Point, number> = { minus: -1, plus: 1, base: 0 };

export const conservative: ZoOptimizer<null, never> = {
  kind: 'optimizer',
  name: 'conservative',
  description: 'keep the best of θ, θ − ηĝ, θ + ηĝ on the minibatch (ZO-Bench zo_conserv); +3 forward passes',
  options: {},
  validate(options) {
    if (options.weightDecay > 0) {
      throw new ConfigError(`estimator.weightDecay must be 0 for the conservative optimizer, got ${options.weightDecay}`);
    }
  },
  // θ − ηĝ and θ + ηĝ always; L(θ) too unless the difference scheme already measured it
  updatePasses: (baseLossKnown) => (baseLossKnown ? 2 : 3),
  init: () => null,
  async update(ctx, state) {
    const lr = ctx.lr;
    let position = 0;
    // θ ← θ + (target − position)·η·ĝ, in place
    const moveTo = (target: number): void => {
      if (target !== position) for (const param of ctx.params) addEstimate(ctx, param, param.tensor, (target - position) * lr);
      position = target;
    };
    const losses: Partial<Record<Point, number>> = {};
    const measure = async (point: Point): Promise<void> => {
      moveTo(POSITION[point]);
      if (!ctx.evaluate) return;
      const loss = point === 'base' && ctx.baseLoss !== null ? ctx.baseLoss : await ctx.evaluate();
      if (!Number.isFinite(loss)) {
        moveTo(0);
        throw new DivergenceError(`loss is ${loss} at the ${point} point of the conservative step ${ctx.step}; θ restored`, ctx.step);
      }
      losses[point] = loss;
    };
    await measure('base');
    await measure('minus');
    await measure('plus');
    let kept: Point;
    if (ctx.replayedDecision !== null) {
      kept = ctx.replayedDecision as Point;
    } else {
      kept = CONSERVATIVE_POINTS.reduce((best, point) => (losses[point]! < losses[best]! ? point : best));
    }
    moveTo(POSITION[kept]);
    return { state, losses: losses as Record<string, number>, decision: kept };
  },
  dispose: () => {},
};
