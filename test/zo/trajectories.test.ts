/**
 * Pinned trajectories: three steps of ZO presets on a small causal LM (cpu backend, fixed seeds,
 * weight decay and q > 1 where the optimizer allows them), hashed bit for bit. The hashes were
 * computed before the engine took over the restore and the optimizers shared their decay and apply
 * stages, so a changed hash means a method's arithmetic changed, not just its code.
 */
import { describe, expect, it } from 'vitest';
import { createModel } from '../../src/nn/factory.ts';
import { MemoryLedger } from '../../src/tensor/ledger.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { createEstimator, type Overrides } from '../../src/zo/index.ts';
import { fnv1aOfParams, pinnedBatch, PINNED_SHAPE } from '../nn/pinned.ts';

const PINNED: [method: string, overrides: Overrides, hash: string][] = [
  ['mezo', { weightDecay: 0.1, queries: 2 }, '574bcecb'],
  ['zo-sgd-sign', { weightDecay: 0.1 }, '2ba26191'],
  ['zo-sgd-mmt', { weightDecay: 0.1 }, '6773b72e'],
  ['zo-sgd-cons', {}, '3597a7d9'],
  ['zo-adam', { weightDecay: 0.1 }, '3fa43ab0'],
  ['lozo', { weightDecay: 0.1, interval: 2 }, '30bdd01e'],
  ['lozo-m', { weightDecay: 0.1, interval: 2, rank: 2 }, '55284476'],
  ['mezo-rademacher', { weightDecay: 0.1 }, '7877cbef'],
];

describe('ZO trajectories pinned bit for bit', () => {
  for (const [method, overrides, hash] of PINNED) {
    it(`${method} ${JSON.stringify(overrides)}`, async () => {
      const model = createModel(new Engine(new CpuBackend(), new MemoryLedger()), { kind: 'causal-lm', preset: 'tiny', overrides: PINNED_SHAPE, seed: 5 });
      const estimator = createEstimator(method, { lr: 1e-3, ...overrides });
      let state = estimator.init(model.params, { seed: 9 });
      for (let step = 0; step < 3; step++) state = (await estimator.step(state, { loss: () => model.loss(pinnedBatch(step)) })).state;
      expect(fnv1aOfParams(model.params)).toBe(hash);
    });
  }
});
