/**
 * The backprop path on an asynchronous backend (gpu.js 'async' mode, where `readSync` refuses while
 * work is queued): every optimizer that reads on the host (8-bit moments, GaLore's SVD, Adafactor's
 * statistics, AdaLomo inside backward) steps through `await read()`. The loss after one update must
 * match the cpu backend's to float32 rounding of the same step: both compute the same float32 ops,
 * only summation order differs (relative ~1e-6 per product), and one update moves the loss by O(lr).
 */
import { describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import { createOptimizer } from '../../src/galore/index.ts';
import { globalStep, perLayerStep } from '../../src/galore/layerwise.ts';
import { createBackend, registeredBackends } from '../../src/kernels/index.ts';
import { createModel } from '../../src/nn/factory.ts';
import { MemoryLedger } from '../../src/tensor/ledger.ts';
import { Engine } from '../../src/tensor/tensor.ts';

const SHAPE = { vocab: 40, dModel: 32, dFf: 64, seq: 8, heads: 2, layers: 1 };

async function twoLosses(backend: 'cpu' | 'gpu', name: string): Promise<number[]> {
  const engine = new Engine(await createBackend(backend, backend === 'gpu' ? { mode: 'async' } : {}), new MemoryLedger());
  const model = createModel(engine, { kind: 'causal-lm', preset: 'tiny', overrides: SHAPE, seed: 3 });
  const optimizer = createOptimizer(name, model.params, {
    lr: 1e-2, galore: { rank: 4, updateGap: 1 }, ...(name.includes('8bit') ? { eightBit: { minQuantizedSize: 256 } } : {}),
  });
  const ids = Int32Array.from({ length: 32 }, (_, i) => (i * 7) % 40);
  const batch = { ids, targets: Int32Array.from(ids, (x) => (x + 1) % 40), batch: 4, seq: 8 };
  const losses = [];
  for (let step = 0; step < 2; step++) {
    const lossFn = () => model.lossTensor(batch);
    losses.push(name === 'adalomo' ? await perLayerStep(model.params, optimizer, lossFn) : await globalStep(model.params, optimizer, lossFn));
  }
  engine.backend.dispose();
  return losses;
}

describe.runIf(registeredBackends().includes('gpu'))('backprop optimizers on the asynchronous gpu backend', () => {
  for (const name of ['galore-adamw8bit', 'adamw8bit', 'galore-adafactor', 'adalomo']) {
    it(`${name}: steps without readSync and matches the cpu backend's loss after one update`, async () => {
      const [cpuBefore, cpuAfter] = await twoLosses('cpu', name);
      const [gpuBefore, gpuAfter] = await twoLosses('gpu', name);
      expect(Math.abs(gpuBefore! - cpuBefore!)).toBeLessThan(1e-5 * cpuBefore!);
      expect(gpuAfter!).toBeLessThan(gpuBefore!);
      expect(Math.abs(gpuAfter! - cpuAfter!)).toBeLessThan(1e-4 * cpuAfter!);
    }, 120_000);
  }
});
