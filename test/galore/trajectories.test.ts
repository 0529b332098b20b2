/**
 * Pinned trajectories: three steps of every built-in backprop optimizer on a small causal LM (cpu
 * backend, fixed seeds, weight decay on), hashed bit for bit (FNV-1a of the float32 parameters).
 * The hashes were computed by the implementation before the optimizers became compositions of
 * update rules (one class per optimizer), so a changed hash means a method's arithmetic changed,
 * not just its code: results committed from earlier runs would no longer reproduce.
 */
import { describe, expect, it } from 'vitest';
import { createOptimizer } from '../../src/galore/index.ts';
import { globalStep, perLayerStep } from '../../src/galore/layerwise.ts';
import { createModel } from '../../src/nn/factory.ts';
import { fnv1aOfParams, pinnedBatch, PINNED_SHAPE } from '../nn/pinned.ts';
import { makeEngine } from './helpers.ts';

const PINNED: [name: string, perLayer: boolean, weightDecay: number, hash: string][] = [
  ['adamw', false, 0.1, 'd353078e'],
  ['adamw8bit', false, 0.1, '298078a1'],
  ['adafactor', false, 0.1, 'b716197f'],
  ['galore-adamw', false, 0.1, '9d68bbef'],
  ['galore-adamw8bit', true, 0, '350958ec'],
  ['galore-adafactor', false, 0.1, '275ede8e'],
  ['lora', false, 0.1, '4810a30b'],
  ['relora', false, 0, '2b35cff6'],
];

describe('backprop trajectories pinned bit for bit', () => {
  for (const [name, perLayer, weightDecay, hash] of PINNED) {
    it(`${name}${perLayer ? ' per-layer' : ''}`, async () => {
      const model = createModel(makeEngine(), { kind: 'causal-lm', preset: 'tiny', overrides: PINNED_SHAPE, seed: 5 });
      const optimizer = createOptimizer(name, model.params, {
        model, lr: 1e-2, weightDecay, galore: { rank: 2, updateGap: 2 }, adafactor: { beta1: 0.9 }, lora: { rank: 2 }, relora: { resetEvery: 2 }, seed: 1,
        ...(name.includes('8bit') ? { eightBit: { minQuantizedSize: 64 } } : {}),
      });
      for (let step = 0; step < 3; step++) {
        const lossFn = () => model.lossTensor(pinnedBatch(step));
        if (perLayer) await perLayerStep(model.params, optimizer, lossFn);
        else await globalStep(model.params, optimizer, lossFn);
      }
      expect(fnv1aOfParams(model.params)).toBe(hash);
    });
  }
});
