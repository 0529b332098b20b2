/**
 * `zolo memory` on the pretrained-decoder families: the analytic count of a Hugging Face folder
 * (tied GPT-2 and Qwen2 heads, LLaMA's untied one, GPT-2's fused c_attn, Qwen2's q/k/v biases) and
 * of the llama-* presets equals what the ledger holds after one step of each method.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOptimizer } from '../../src/galore/index.ts';
import { globalStep, perLayerStep } from '../../src/galore/layerwise.ts';
import { architectureByName, decoderArchitecture, estimateMemory } from '../../src/galore/memory.ts';
import { decoderPresetConfig } from '../../src/nn/architectures/presets.ts';
import { loadHfModel, readHfConfig } from '../../src/nn/hf/load.ts';
import { createLanguageModel } from '../../src/nn/languageModel.ts';
import { rng } from '../kernels/helpers.ts';
import { makeEngine } from './helpers.ts';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'hf');
const CASES: [string, boolean][] = [['adamw', false], ['galore-adamw', false], ['galore-adamw', true], ['lora', false], ['adalomo', true]];

describe('estimateMemory on decoder families', () => {
  for (const family of ['gpt2', 'opt', 'llama', 'qwen2']) {
    for (const [method, perLayer] of CASES) {
      it(`agrees with the ledger byte for byte: ${family} fixture, ${method}${perLayer ? ' per-layer' : ''}`, async () => {
        const dir = join(FIXTURES, family);
        const engine = makeEngine();
        const model = await loadHfModel(dir, engine);
        const config = await readHfConfig(dir);
        const parameters = model.params.all().reduce((n, p) => n + p.tensor.size, 0);
        const optimizer = createOptimizer(method, model.params, { model, galore: { rank: 4 }, lora: { rank: 2 } });
        const random = rng(5);
        const ids = Int32Array.from({ length: 12 }, () => Math.floor(random() * config.vocab));
        engine.ledger.resetPeaks();
        const gradientBefore = engine.ledger.peakBytes('gradient');
        const loss = () => model.lossTensor({ ids, targets: ids, batch: 2, seq: 6 });
        if (perLayer) await perLayerStep(model.params, optimizer, loss);
        else await globalStep(model.params, optimizer, loss);
        const estimate = estimateMemory(decoderArchitecture(config, family), method, { rank: 4, perLayer, loraRank: 2 });
        expect(estimate.parameters).toBe(parameters);
        expect(estimate.bytes.weights).toBe(engine.ledger.currentBytes('weights'));
        expect(estimate.bytes.adapter).toBe(engine.ledger.currentBytes('adapter'));
        expect(estimate.bytes.optimizerState).toBe(engine.ledger.currentBytes('optimizerState'));
        if (perLayer) expect(engine.ledger.peakBytes('gradient') - gradientBefore).toBe(estimate.bytes.gradient);
        else expect(engine.ledger.peakBytes('gradient')).toBeGreaterThanOrEqual(estimate.bytes.gradient);
      });
    }
  }

  it('counts the llama-* presets with exactly the parameters the model registers', () => {
    for (const name of ['llama-tiny', 'llama-20m']) {
      const model = createLanguageModel(makeEngine(), decoderPresetConfig(name), 0);
      const arch = architectureByName(name);
      expect(arch.params.map((p) => [p.name, p.shape])).toEqual(model.params.all().map((p) => [p.name, p.tensor.shape]));
    }
  });
});
