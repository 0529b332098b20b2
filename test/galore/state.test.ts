import { describe, expect, it } from 'vitest';
import { createOptimizer } from '../../src/galore/index.ts';
import { globalStep } from '../../src/galore/layerwise.ts';
import type { LanguageModelBatch } from '../../src/nn/batch.ts';
import { createModel } from '../../src/nn/factory.ts';
import { rng } from '../kernels/helpers.ts';
import { makeEngine } from './helpers.ts';

const SHAPE = { vocab: 40, dModel: 32, dFf: 64, seq: 8, heads: 2, layers: 1 };

function batchOf(seed: number): LanguageModelBatch {
  const random = rng(seed);
  const ids = Int32Array.from({ length: 32 }, () => Math.floor(random() * 40));
  return { ids, targets: Int32Array.from(ids, (x) => (x * 3 + 1) % 40), batch: 4, seq: 8 };
}

function setup(name: string) {
  const engine = makeEngine();
  const model = createModel(engine, { kind: 'causal-lm', preset: 'tiny', overrides: SHAPE, seed: 4 });
  const optimizer = createOptimizer(name, model.params, {
    model, lr: 1e-2, galore: { rank: 4, updateGap: 2 }, ...(name.includes('8bit') ? { eightBit: { minQuantizedSize: 512 } } : {}),
    adafactor: { beta1: 0.9 }, lora: { rank: 2 }, relora: { resetEvery: 3 },
  });
  return { model, optimizer };
}

describe('optimizer state export/import (resume)', () => {
  for (const name of ['galore-adamw', 'galore-adamw8bit', 'adamw8bit', 'galore-adafactor', 'relora', 'adalomo'] as const) {
    it(`${name}: a fresh optimizer loaded from saveState() continues bit-identically (across refreshes/restarts)`, async () => {
      const original = setup(name);
      for (let step = 0; step < 3; step++) await globalStep(original.model.params, original.optimizer, () => original.model.lossTensor(batchOf(step)));
      const saved = await original.optimizer.saveState();
      const resumed = setup(name);
      resumed.model.params.load(await original.model.params.snapshot());
      // the JSON part goes through a file in a checkpoint: round-trip it
      resumed.optimizer.loadState({ json: JSON.parse(JSON.stringify(saved.json)), tensors: saved.tensors });
      for (let step = 3; step < 6; step++) {
        await globalStep(original.model.params, original.optimizer, () => original.model.lossTensor(batchOf(step)));
        await globalStep(resumed.model.params, resumed.optimizer, () => resumed.model.lossTensor(batchOf(step)));
      }
      const a = await original.model.params.snapshot();
      const b = await resumed.model.params.snapshot();
      for (const [paramName, values] of a) expect(b.get(paramName)).toEqual(values);
    });
  }
});
