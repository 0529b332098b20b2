/**
 * The pretrained decoder families beyond matching transformers' logits (test/nn/hf/logits.test.ts):
 * the backprop path (tape gradients against central differences), right padding, every backend,
 * and adapters on the projections each architecture declares.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CpuBackend } from '../../../src/kernels/cpu.ts';
import { createBackend, registeredBackends } from '../../../src/kernels/index.ts';
import { attachAdapters } from '../../../src/nn/adapters/attach.ts';
import { ARCHITECTURES } from '../../../src/nn/architectures/index.ts';
import { type LanguageModelBatch, nextTokenTargets } from '../../../src/nn/batch.ts';
import { loadHfModel } from '../../../src/nn/hf/load.ts';
import { disposeGrads, valueAndGrad } from '../../../src/nn/tape.ts';
import { Engine } from '../../../src/tensor/tensor.ts';
import { FIXTURES, reference } from '../hf/fixtures.ts';
import { checkModelGradients } from '../modelGradcheck.ts';

const FAMILIES = ['gpt2', 'opt', 'llama', 'qwen2'] as const;
const load = (name: string, engine = new Engine(new CpuBackend())) => loadHfModel(join(FIXTURES, name), engine);

/** Two rows, the second right-padded to the first's length (lengths 6 and 4). */
function paddedBatch(): LanguageModelBatch {
  const ids = Int32Array.from([5, 17, 42, 99, 3, 250, 8, 300, 12, 77, 0, 0]);
  const batch = { ids, batch: 2, seq: 6, lengths: Int32Array.from([6, 4]) };
  return { ...batch, targets: nextTokenTargets(batch) };
}

describe.each(FAMILIES)('%s', (name) => {
  test('every parameter\'s tape gradient matches central differences', async () => {
    const model = await load(name);
    expect(await checkModelGradients(name, model, paddedBatch(), 31)).toBe(model.params.all().length);
  });

  test('a right-padded row gives, at its real positions, the logits it gives alone', async () => {
    const model = await load(name);
    const vocab = model.config.vocab;
    const both = await model.forward(paddedBatch()).read();
    const alone = await model.forward({ ids: Int32Array.from([8, 300, 12, 77]), batch: 1, seq: 4 }).read();
    // the same kernels on the same rows: only the batch layout differs, so f32 results agree to rounding
    alone.forEach((value, i) => expect(Math.abs(both[6 * vocab + i]! - value)).toBeLessThan(1e-5));
  });

  test('LoRA attaches to the declared projections; at B = 0 the logits are unchanged and only adapters get gradients', async () => {
    const model = await load(name);
    const projections = ARCHITECTURES[model.config.family].projections;
    const batch = paddedBatch();
    const before = await model.forward(batch).read();
    const attached = attachAdapters(model, { kind: 'lora', targets: [projections[0]!, projections.at(-1)!], rank: 2, alpha: 4 });
    expect(attached.sites).toHaveLength(2 * model.config.layers);
    const after = await model.forward(batch).read();
    after.forEach((value, i) => expect(value).toBe(before[i]));
    const { grads } = await valueAndGrad(model.params, () => model.lossTensor(batch));
    expect([...grads.keys()].every((param) => param.group === 'adapter')).toBe(true);
    expect(grads.size).toBe(attached.params.length);
    disposeGrads(grads);
  });
});

describe('every backend', () => {
  test.each(['gpt2', 'llama'])('%s: logits within 1e-4 of transformers\' on every registered backend', async (name) => {
    const ref = reference(name);
    const ids = ref.sequences[1]!;
    for (const backendName of registeredBackends()) {
      const backend = await createBackend(backendName);
      try {
        const model = await load(name, new Engine(backend));
        const got = await model.forward({ ids: Int32Array.from(ids), batch: 1, seq: ids.length }).read();
        // same bound as the cpu comparison (logits.test.ts): O(1) logits, f32 sums over d ≤ 64 terms
        ref.logits[1]!.flat().forEach((value, i) => expect(Math.abs(got[i]! - value), `${backendName} logit ${i}`).toBeLessThan(1e-4));
      } finally {
        backend.dispose();
      }
    }
  });
});
