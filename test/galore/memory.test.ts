import { describe, expect, it } from 'vitest';
import { createOptimizer } from '../../src/galore/index.ts';
import { globalStep, perLayerStep } from '../../src/galore/layerwise.ts';
import { architectureByName, estimateMemory, llamaArchitecture, zoloArchitecture } from '../../src/galore/memory.ts';
import { presetConfig } from '../../src/nn/config.ts';
import { createModel } from '../../src/nn/factory.ts';
import { rng } from '../kernels/helpers.ts';
import { makeEngine } from './helpers.ts';

const SHAPE = { vocab: 300, dModel: 64, dFf: 128, seq: 8, heads: 2, layers: 2 };

describe('estimateMemory', () => {
  it('describes zolo\'s models with exactly the parameters the model registers', () => {
    for (const kind of ['causal-lm', 'encoder-classifier'] as const) {
      const model = createModel(makeEngine(), { kind, preset: 'tiny' });
      const arch = zoloArchitecture(kind, presetConfig('tiny'));
      expect(arch.params.map((p) => [p.name, p.shape])).toEqual(model.params.all().map((p) => [p.name, p.tensor.shape]));
    }
  });

  const cases: [string, boolean][] = [
    ['adamw', false], ['adamw8bit', false], ['adafactor', false], ['galore-adamw', false], ['galore-adamw', true],
    ['galore-adamw8bit', false], ['galore-adafactor', false], ['lora', false], ['relora', false], ['adalomo', true],
  ];
  for (const [method, perLayer] of cases) {
    it(`agrees with the ledger byte for byte: ${method}${perLayer ? ' per-layer' : ''}`, async () => {
      const engine = makeEngine();
      const model = createModel(engine, { kind: 'causal-lm', preset: 'tiny', overrides: SHAPE, seed: 1 });
      const optimizer = createOptimizer(method, model.params, { model, galore: { rank: 8 }, lora: { rank: 4 }, ...(method.includes('8bit') ? { eightBit: { minQuantizedSize: 4096 } } : {}) });
      const random = rng(3);
      const ids = Int32Array.from({ length: 16 }, () => Math.floor(random() * 300));
      const batch = { ids, targets: ids, batch: 2, seq: 8 };
      engine.ledger.resetPeaks();
      const gradientBefore = engine.ledger.peakBytes('gradient');
      if (perLayer) await perLayerStep(model.params, optimizer, () => model.lossTensor(batch));
      else await globalStep(model.params, optimizer, () => model.lossTensor(batch));
      const estimate = estimateMemory(zoloArchitecture('causal-lm', presetConfig('tiny', SHAPE)), method, {
        rank: 8, perLayer, loraRank: 4,
      });
      const ledger = engine.ledger;
      expect(estimate.bytes.weights).toBe(ledger.currentBytes('weights'));
      expect(estimate.bytes.adapter).toBe(ledger.currentBytes('adapter'));
      expect(estimate.bytes.optimizerState).toBe(ledger.currentBytes('optimizerState'));
      expect(estimate.bytes.optimizerState).toBe(optimizer.stateBytes());
      // the normal step's peak also holds transient copies the tape makes for pass-through views
      if (perLayer) expect(ledger.peakBytes('gradient') - gradientBefore).toBe(estimate.bytes.gradient);
      else expect(ledger.peakBytes('gradient')).toBeGreaterThanOrEqual(estimate.bytes.gradient);
    });
  }

  it('reproduces the reference counts for LLaMA-7B at r = 1024: 4.70B GaLore state elements vs 13.48B for Adam (§4.1, §6.13)', () => {
    const arch = llamaArchitecture('llama-7b');
    const adam = estimateMemory(arch, 'adamw', { elementBytes: 2 });
    const galore = estimateMemory(arch, 'galore-adamw', { elementBytes: 2, rank: 1024 });
    expect(adam.parameters).toBe(6_738_415_616);
    expect((adam.stateElements.moments / 1e9).toFixed(2)).toBe('13.48');
    expect(((galore.stateElements.moments + galore.stateElements.projector) / 1e9).toFixed(2)).toBe('4.70');
  });

  it('names the allowed models and methods on bad input', () => {
    expect(() => architectureByName('llama-13b')).toThrow(/tiny, small, llama-tiny, llama-20m, llama-60m, llama-130m, llama-350m, llama-1b, llama-7b or a Hugging Face model folder/);
    expect(() => estimateMemory(llamaArchitecture('llama-60m'), 'sgd')).toThrow(/method must be one of adamw/);
  });
});
