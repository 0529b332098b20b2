import { describe, expect, it } from 'vitest';
import { createOptimizer } from '../../src/galore/index.ts';
import { globalStep, perLayerStep } from '../../src/galore/layerwise.ts';
import { createModel } from '../../src/nn/factory.ts';
import type { LanguageModelBatch } from '../../src/nn/batch.ts';
import { makeEngine } from './helpers.ts';
import { rng } from '../kernels/helpers.ts';

const SHAPE = { vocab: 40, dModel: 32, dFf: 64, seq: 8, heads: 2, layers: 2 };

function batchOf(seed: number): LanguageModelBatch {
  const random = rng(seed);
  const ids = Int32Array.from({ length: 4 * 8 }, () => Math.floor(random() * 40));
  const targets = Int32Array.from({ length: 4 * 8 }, () => Math.floor(random() * 40));
  return { ids, targets, batch: 4, seq: 8 };
}

describe('per-layer updates (galore.md §3.2, §6.17)', () => {
  for (const name of ['galore-adamw', 'adamw8bit', 'galore-adafactor'] as const) {
    it(`${name}: same parameters as a normal step, while the gradient peak drops to the gradients in flight`, async () => {
      const runs = [];
      for (const perLayer of [false, true]) {
        const engine = makeEngine();
        const model = createModel(engine, { kind: 'causal-lm', preset: 'tiny', overrides: SHAPE, seed: 3 });
        const optimizer = createOptimizer(name, model.params, {
          lr: 1e-2, galore: { rank: 4, updateGap: 2, scale: 0.25 }, ...(name === 'adamw8bit' ? { eightBit: { minQuantizedSize: 1024 } } : {}),
        });
        engine.ledger.resetPeaks();
        for (let step = 0; step < 3; step++) {
          const batch = batchOf(step);
          const lossFn = () => model.lossTensor(batch);
          if (perLayer) await perLayerStep(model.params, optimizer, lossFn);
          else await globalStep(model.params, optimizer, lossFn);
        }
        runs.push({ values: await model.params.snapshot(), gradientPeak: engine.ledger.peakBytes('gradient'), model });
      }
      const [normal, layerwise] = runs;
      for (const [paramName, values] of normal!.values) {
        // each update reads only its own gradient: bit-identical (galore.md §6.17)
        expect(layerwise!.values.get(paramName)).toEqual(values);
      }
      const params = normal!.model.params.all();
      const allBytes = params.reduce((n, p) => n + 4 * p.tensor.size, 0);
      const largest = Math.max(...params.map((p) => 4 * p.tensor.size));
      // a normal step holds every gradient at once (plus transient copies of pass-through views)
      expect(normal!.gradientPeak).toBeGreaterThanOrEqual(allBytes);
      // the tied embedding's gradient is live from the head (first in backward) to the input gather
      // (last), so the bound is the largest parameter plus the largest other one in flight
      const secondLargest = Math.max(...params.filter((p) => 4 * p.tensor.size < largest).map((p) => 4 * p.tensor.size));
      expect(layerwise!.gradientPeak).toBeLessThanOrEqual(largest + secondLargest);
      expect(layerwise!.gradientPeak).toBeLessThan(allBytes / 2);
    });
  }

  it('encoder classifier (untied head): the gradient peak is one Linear\'s weight and bias gradients', async () => {
    const engine = makeEngine();
    const model = createModel(engine, { kind: 'encoder-classifier', preset: 'tiny', overrides: SHAPE, seed: 1 });
    const optimizer = createOptimizer('galore-adamw', model.params, { galore: { rank: 4 } });
    const batch = { ...batchOf(9), labels: Int32Array.of(0, 1, 1, 0) };
    engine.ledger.resetPeaks();
    await perLayerStep(model.params, optimizer, () => model.lossTensor(batch));
    // a Linear's backward returns dW and db together, so the largest weight's gradient coexists with its bias's
    const largestLinear = Math.max(...[...model.linears().values()].map((l) => 4 * (l.weight.tensor.size + (l.bias?.tensor.size ?? 0))));
    expect(engine.ledger.peakBytes('gradient')).toBe(largestLinear);
    const allBytes = model.params.all().reduce((n, p) => n + 4 * p.tensor.size, 0);
    expect(largestLinear / allBytes).toBeLessThan(0.2);
  });
});
