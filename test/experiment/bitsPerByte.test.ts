/**
 * Bits per byte against hand computations: a model with a zero embedding predicts the uniform
 * distribution (every logit h·Eᵀ is 0), so each counted target costs exactly ln V nats; a random
 * model is checked against an explicit per-token log-softmax sum over the packed windows.
 */
import { describe, expect, it } from 'vitest';
import { IGNORE_INDEX } from '../../src/data/batching.ts';
import { LmTask } from '../../src/data/lmTask.ts';
import { SPECIAL_IDS, trainTokenizer } from '../../src/data/tokenizer.ts';
import { bitsPerByte } from '../../src/experiment/bitsPerByte.ts';
import { CpuBackend } from '../../src/kernels/index.ts';
import { CausalLm, presetConfig } from '../../src/nn/index.ts';
import { Engine } from '../../src/tensor/index.ts';

// no text repeats a pair twice, so no merge is learned: one token per byte, vocabulary 5 + 256
const tokenizer = trainTokenizer(['xyz'], { vocabSize: 261 });
const texts = ['héllo', 'ab']; // 'é' is 2 UTF-8 bytes: 6 + 2 = 8 bytes, 8 byte tokens

function model(seq: number, seed: number): CausalLm {
  return new CausalLm(new Engine(new CpuBackend()), presetConfig('tiny', { vocab: 261, dModel: 16, heads: 2, dFf: 32, layers: 1, seq }), seed);
}

describe('bitsPerByte', () => {
  it('a uniform model costs (text tokens + one [eos] per text) · log2 V bits over the text bytes', async () => {
    const uniform = model(64, 0);
    const values = await uniform.params.snapshot();
    values.set('tok.weight', new Float32Array(261 * 16));
    uniform.params.load(values);
    const result = await bitsPerByte(uniform, tokenizer, texts);
    // stream: bos h é é l l o eos bos a b eos → 11 targets, one of them the second bos (not counted)
    expect(result.targets).toBe(10);
    expect(result.bytes).toBe(8);
    // float32 logits of exactly 0: each row's cross-entropy is ln 261 up to float32 rounding (rel. 1e-7)
    expect(result.bitsPerByte).toBeCloseTo((10 * Math.log2(261)) / 8, 5);
  });

  it('equals the explicit sum of −log softmax over every counted target, across window boundaries', async () => {
    const seq = 4; // the 12-token stream spans 3 windows, each without earlier context
    const lm = model(seq, 7);
    const task = LmTask.fromTexts(tokenizer, texts, seq);
    let nats = 0;
    for (const batch of task.evalBatches(64)) {
      const logits = await lm.forward(batch).read();
      batch.targets.forEach((target, row) => {
        if (target === IGNORE_INDEX || target === SPECIAL_IDS.bos) return;
        const z = logits.subarray(row * 261, (row + 1) * 261);
        const max = Math.max(...z);
        const logSum = Math.log(z.reduce((sum, v) => sum + Math.exp(v - max), 0)) + max;
        nats += logSum - z[target]!;
      });
    }
    const result = await bitsPerByte(lm, tokenizer, texts, 2);
    // per-row losses are float32 (relative 1e-6 each); the sums agree to that relative precision
    expect(result.nats / nats).toBeCloseTo(1, 5);
    expect(result.bitsPerByte).toBeCloseTo(nats / (Math.LN2 * 8), 5);
  });
});
