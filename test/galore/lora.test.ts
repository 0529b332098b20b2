import { describe, expect, it } from 'vitest';
import { createOptimizer } from '../../src/galore/index.ts';
import { globalStep } from '../../src/galore/layerwise.ts';
import type { LoraOptimizer } from '../../src/galore/lora.ts';
import { createModel } from '../../src/nn/factory.ts';
import type { LanguageModelBatch } from '../../src/nn/batch.ts';
import { rng } from '../kernels/helpers.ts';
import { makeEngine } from './helpers.ts';

const SHAPE = { vocab: 40, dModel: 32, dFf: 64, seq: 8, heads: 2, layers: 2 };

function fixedBatch(): LanguageModelBatch {
  const random = rng(5);
  const ids = Int32Array.from({ length: 32 }, () => Math.floor(random() * 40));
  return { ids, targets: Int32Array.from(ids, (x) => (x * 7 + 3) % 40), batch: 4, seq: 8 };
}

function setup(name: 'lora' | 'relora', resetEvery = 3) {
  const engine = makeEngine();
  const model = createModel(engine, { kind: 'causal-lm', preset: 'tiny', overrides: SHAPE, seed: 2 });
  const base = new Map([...model.params.all()].map((p) => [p.name, p.tensor.readSync()]));
  const optimizer = createOptimizer(name, model.params, {
    model, lr: 1e-2, lora: { rank: 4, alpha: 8 }, relora: { resetEvery, rewarmupSteps: 2 }, seed: 1,
  }) as LoraOptimizer;
  return { engine, model, base, optimizer };
}

describe('LoRA and ReLoRA baselines', () => {
  it('LoRA trains only the adapters (base frozen) and lowers the loss', async () => {
    const { model, base, optimizer } = setup('lora');
    const batch = fixedBatch();
    expect(optimizer.params.every((p) => p.group === 'adapter')).toBe(true);
    expect(optimizer.attached.sites).toEqual(['blocks.0.attn.qkv', 'blocks.0.attn.proj', 'blocks.0.mlp.fc1', 'blocks.0.mlp.fc2',
      'blocks.1.attn.qkv', 'blocks.1.attn.proj', 'blocks.1.mlp.fc1', 'blocks.1.mlp.fc2']);
    const first = await globalStep(model.params, optimizer, () => model.lossTensor(batch));
    let last = first;
    for (let step = 0; step < 15; step++) last = await globalStep(model.params, optimizer, () => model.lossTensor(batch));
    expect(last).toBeLessThan(first);
    for (const [name, values] of base) expect(model.params.get(name).tensor.readSync()).toEqual(values);
  });

  it('ReLoRA merges every K steps without changing the model, re-initialises B = 0 and resets the optimizer', async () => {
    const { engine, model, base, optimizer } = setup('relora', 3);
    const batch = fixedBatch();
    for (let step = 0; step < 2; step++) await globalStep(model.params, optimizer, () => model.lossTensor(batch));
    expect(optimizer.restarts).toBe(0);
    // the 3rd step merges; compare the loss of the updated model before and after the merge
    // by merging by hand on a copy of the same state: loss must be unchanged to float32 rounding
    const beforeMerge = await model.loss(batch);
    await optimizer.mergeAdapters();
    const afterMerge = await model.loss(batch);
    expect(Math.abs(afterMerge - beforeMerge)).toBeLessThan(1e-5 * Math.abs(beforeMerge));
    const changed = [...base].some(([name, values]) => {
      const now = model.params.get(name).tensor.readSync();
      return now.some((x, i) => x !== values[i]);
    });
    expect(changed).toBe(true);
    for (const adapter of optimizer.attached.params.filter((p) => p.name.endsWith('.B'))) {
      expect(adapter.tensor.readSync().every((x) => x === 0)).toBe(true);
    }
    await globalStep(model.params, optimizer, () => model.lossTensor(batch));
    expect(optimizer.restarts).toBe(1);
    expect(optimizer.stateBytes()).toBe(0);
    expect(engine.ledger.currentBytes('optimizerState')).toBe(0);
  });
});
