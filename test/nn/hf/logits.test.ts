/**
 * zolo's forward on the committed Hugging Face fixtures (test/fixtures/hf, made by make.py) against
 * transformers' float32 logits on the same weights.
 * Tolerance 1e-4 absolute: both sides compute in float32 with O(1) activations (make.py spreads the
 * weights so logits have standard deviation ≈ 1), d = 32 and two blocks, so each logit carries a few
 * hundred roundings of relative size 2⁻²⁴ ≈ 6e-8 — about 1e-5 in the worst case, and the two
 * implementations differ only in summation order. 1e-4 leaves a 10× margin yet catches any wrong
 * term (a missing bias or norm weight moves logits by ≥ 1e-2 at this weight scale).
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CpuBackend } from '../../../src/kernels/cpu.ts';
import { loadHfModel } from '../../../src/nn/hf/load.ts';
import { Engine } from '../../../src/tensor/tensor.ts';
import { FIXTURES, reference } from './fixtures.ts';

const TOLERANCE = 1e-4;

function maxAbsDiff(got: Float32Array, want: number[][]): number {
  let worst = 0;
  want.flat().forEach((value, i) => {
    worst = Math.max(worst, Math.abs(got[i]! - value));
  });
  return worst;
}

describe('logits equal transformers\' within 1e-4', () => {
  for (const name of ['gpt2', 'gpt2-f16', 'llama', 'llama-sharded', 'llama-bf16', 'qwen2', 'opt']) {
    test(name, async () => {
      const engine = new Engine(new CpuBackend());
      const model = await loadHfModel(join(FIXTURES, name), engine);
      const ref = reference(name);
      for (const [s, ids] of ref.sequences.entries()) {
        const logits = model.forward({ ids: Int32Array.from(ids), batch: 1, seq: ids.length });
        expect(logits.shape).toEqual([1, ids.length, model.config.vocab]);
        expect(maxAbsDiff(await logits.read(), ref.logits[s]!)).toBeLessThan(TOLERANCE);
      }
    });
  }
});
