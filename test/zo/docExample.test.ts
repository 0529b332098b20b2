/**
 * The worked example of docs/estimators.md ("Add a new estimator in an afternoon"), verbatim: a new
 * optimizer part (ZO-SGD with the projected gradient clipped to [−τ, τ]) and a preset using it.
 * Keeping it in the test suite keeps the documentation honest.
 */
import { describe, expect, it } from 'vitest';
import {
  applySeedTrickUpdate, createEstimator, option, positive, registerPart, registerPreset, type ZoOptimizer,
} from '../../src/zo/index.ts';
import { diagonalQuadratic, fixtureValues, flatTrainable, hostZ, makeStore } from './quadratic.ts';

// ---- docs/estimators.md example, begin
/**
 * ZO-SGD with a clipped projected gradient: θ ← (1−ηλ)θ − η·clip(c, τ)·z. Bounds a single step
 * by η·τ·‖z‖ whatever the loss spike (a NaN guard for heavy-tailed c). Seed trick, no state.
 */
export const clippedSgd: ZoOptimizer<null, 'clip'> = {
  kind: 'optimizer',
  name: 'clippedSgd',
  description: 'θ ← θ − η·clip(c, ±τ)·z; ZO-SGD with a bounded step',
  options: {
    clip: option(10, positive, 'τ, bound on |c|', 'example value; scale it to typical |c| of your task'),
  },
  // applySeedTrickUpdate folds the last query's restore into its pass: one noise regeneration fewer
  fusesRestore: true,
  init: () => null,
  async update(ctx, state) {
    const clip = ctx.options.clip;
    applySeedTrickUpdate(ctx, (query) => Math.max(-clip, Math.min(clip, query.projectedGradient)));
    return { state };
  },
  dispose: () => {},
};

registerPart(clippedSgd);
registerPreset({
  name: 'mezo-clipped',
  description: 'MeZO with the projected gradient clipped to ±τ',
  reference: 'MeZO (arXiv:2305.17333) + clipping; docs/estimators.md worked example',
  parts: { perturbation: 'gaussian', schedule: 'fixed', difference: 'central', optimizer: 'clippedSgd' },
  defaults: { clip: { value: 5, source: 'example' } },
});
// ---- example, end

describe('docs worked example: mezo-clipped', () => {
  it('bounds the step by η·τ·|z| and otherwise equals MeZO', async () => {
    const store = makeStore([{ name: 'w', shape: [2, 3], values: fixtureValues(6, 1) }]);
    const problem = diagonalQuadratic([1, 2, 3, 4, 5, 6], fixtureValues(6, 2));
    const spiky = async (s: typeof store) => 1e6 * (await problem.loss(s));
    const estimator = createEstimator('mezo-clipped', { lr: 0.01, clip: 2 });
    expect(estimator.options.clip).toBe(2);
    const state = estimator.init(store, { seed: 4 });
    const before = flatTrainable(store);
    const { record } = await estimator.step(state, { loss: spiky });
    expect(Math.abs(record.projectedGradients[0]!)).toBeGreaterThan(2);
    const z = hostZ(store.trainable(), record.seeds[0]!);
    const after = flatTrainable(store);
    after.forEach((value, i) => expect(Math.abs(value - (before[i]! - 0.01 * 2 * Math.sign(record.projectedGradients[0]!) * z[i]!))).toBeLessThan(1e-6));
  });
});
