/**
 * Pinned trajectories on the wasm backend: three MeZO steps and three AdamW steps (the backprop
 * path: tape, GELU backward, Adam kernels) on a small causal LM, hashed bit for bit, on 1 and 2
 * threads. The shape reaches the matmul's partial register blocks (sizes not multiples of 6 or 8)
 * and its k slices (d_ff 300 > 256). The hashes were computed before the kernels' speed-ups
 * (fused bias/GELU epilogue, 6 × 8 block, float64 Adam kernels); a change means the wasm
 * arithmetic changed. relaxed_madd rounds once where the CPU has FMA and twice where it does not,
 * so each build has its own hash (the mul + add build is ZOLO_WASM_FMA=0's).
 */
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/galore/builtins.ts';
import { createOptimizer } from '../../src/galore/registry.ts';
import { createWasmBackend, type WasmBackend } from '../../src/kernels/wasm/index.ts';
import { createModel } from '../../src/nn/factory.ts';
import { disposeGrads, valueAndGrad } from '../../src/nn/index.ts';
import { MemoryLedger } from '../../src/tensor/ledger.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { createEstimator } from '../../src/zo/index.ts';
import { fnv1aOfParams, pinnedBatch } from '../nn/pinned.ts';

const SHAPE = { vocab: 40, dModel: 44, dFf: 300, seq: 8, heads: 2, layers: 1 };

/** [fused multiply-add build, mul + add build] */
const PINNED: Record<string, [string, string]> = {
  mezo: ['af3c0aff', '3ec99a81'],
  adamw: ['7650870a', '7bc4de6d'],
};

const backends: WasmBackend[] = [];
afterAll(() => {
  for (const backend of backends) backend.dispose();
});

async function model(threads: number) {
  const backend = await createWasmBackend({ threads });
  backends.push(backend);
  return createModel(new Engine(backend, new MemoryLedger()), { kind: 'causal-lm', preset: 'tiny', overrides: SHAPE, seed: 5 });
}

describe('wasm trajectories pinned bit for bit', () => {
  for (const threads of [1, 2]) {
    it(`mezo, ${threads} thread(s)`, async () => {
      const lm = await model(threads);
      const estimator = createEstimator('mezo', { lr: 1e-3, weightDecay: 0.1 });
      let state = estimator.init(lm.params, { seed: 9 });
      for (let step = 0; step < 3; step++) state = (await estimator.step(state, { loss: () => lm.loss(pinnedBatch(step)) })).state;
      expect(fnv1aOfParams(lm.params)).toBe(PINNED.mezo![(lm.params.engine.backend as WasmBackend).fma ? 0 : 1]);
    });

    it(`adamw, ${threads} thread(s)`, async () => {
      const lm = await model(threads);
      const optimizer = createOptimizer('adamw', lm.params, { lr: 1e-2, weightDecay: 0.1 });
      for (let step = 0; step < 3; step++) {
        const { grads } = await valueAndGrad(lm.params, () => lm.lossTensor(pinnedBatch(step)));
        await optimizer.step(grads);
        disposeGrads(grads);
      }
      optimizer.dispose();
      expect(fnv1aOfParams(lm.params)).toBe(PINNED.adamw![(lm.params.engine.backend as WasmBackend).fma ? 0 : 1]);
    });
  }
});
