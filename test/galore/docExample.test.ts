/**
 * The worked example of docs/extending.md ("A new backprop optimizer"), verbatim: the Lion update
 * rule as one object, registered plain and inside GaLore with one line each. Keeping it in the test
 * suite keeps the documentation honest.
 */
import { describe, expect, it } from 'vitest';
import { createOptimizer, registerBackpropOptimizer, type RuleDefinition, type UpdateRule } from '../../src/galore/index.ts';
import { estimateMemory, architectureByName } from '../../src/galore/memory.ts';
import type { Tensor } from '../../src/tensor/tensor.ts';
import { gaussian, makeStore, maxAbsDiff } from './helpers.ts';

// ---- docs/extending.md example, begin
/**
 * Lion (Chen et al. 2023, arXiv:2302.06675, Alg. 2): u = sign(β1·m + (1−β1)·g), then
 * m ← β2·m + (1−β2)·g; θ ← (1 − ηλ)θ − η·u (decoupled decay before the move). One moment per tensor.
 */
export const lion: RuleDefinition = {
  name: 'lion',
  description: 'Lion: the sign of an interpolated momentum',
  reference: 'Chen et al. 2023, arXiv:2302.06675, Alg. 2',
  defaultLr: 1e-4,
  defaultWeightDecay: 0,
  options: { beta1: 'number', beta2: 'number' },
  create(options): UpdateRule<Tensor> {
    const beta1 = (options.beta1 as number | undefined) ?? 0.9;
    const beta2 = (options.beta2 as number | undefined) ?? 0.99;
    return {
      name: 'lion',
      decayBeforeUpdate: true,
      init: (engine, shape) => engine.zeros(shape, 'optimizerState'),
      async update(grad, m, ctx) {
        const backend = ctx.engine.backend;
        const direction = ctx.engine.zeros(grad.shape, 'workspace');
        backend.copy(m.buffer, direction.buffer);
        backend.axpby(1 - beta1, grad.buffer, beta1, direction.buffer); // β1·m + (1−β1)·g
        backend.unary('sign', direction.buffer, direction.buffer);
        backend.axpby(1 - beta2, grad.buffer, beta2, m.buffer); // m ← β2·m + (1−β2)·g
        return { direction, stepSize: ctx.lr, decayLr: ctx.lr, release: () => direction.dispose() };
      },
      reset: (m) => m.backend.fill(m.buffer, 0),
      stateBytes: (m) => 4 * m.size,
      save: async (m) => ({ tensors: { m: await m.read() } }),
      load: (m, saved) => m.backend.write(m.buffer, saved.tensors.m!),
      dispose: (m) => m.dispose(),
    };
  },
  stateSize: (shape, elementBytes) => {
    const elements = shape.reduce((a, b) => a * b, 1);
    return { moments: elements, factored: 0, bytes: elementBytes * elements };
  },
};

registerBackpropOptimizer({ name: 'lion', rule: lion });
registerBackpropOptimizer({ name: 'galore-lion', rule: lion, galore: true, description: 'GaLore over Lion' });
// ---- example, end

describe('docs worked example: lion', () => {
  it('takes a sign step after decoupled decay, and runs inside GaLore with its state in the projected shape', async () => {
    const store = makeStore();
    const theta = Float32Array.from(gaussian(1, 24));
    const param = store.add('block.mlp.w', 'mlp', [6, 4], theta);
    const g = Float32Array.from(gaussian(2, 24));
    const optimizer = createOptimizer('lion', store, { lr: 0.01, weightDecay: 0.5 });
    await optimizer.stepParam(param, store.engine.fromArray(g, [6, 4], 'gradient'));
    // m starts at 0, so u = sign((1−β1)·g) = sign(g); float32: two roundings (decay, move) of ≤ 2⁻²⁴·|θ| each
    const expected = theta.map((x, i) => x * (1 - 0.01 * 0.5) - 0.01 * Math.sign(g[i]!));
    expect(maxAbsDiff(param.tensor.readSync(), expected)).toBeLessThanOrEqual(2 ** -23 * Math.max(...theta.map(Math.abs)));
    expect(optimizer.stateBytes()).toBe(4 * 24);

    const projected = createOptimizer('galore-lion', store, { lr: 0.01, galore: { rank: 2, targetModules: ['mlp'] } });
    await projected.stepParam(param, store.engine.fromArray(g, [6, 4], 'gradient'));
    // 6×4 under std → right side: m is 6×2, plus the 2×4 basis
    expect(projected.stateBytes()).toBe(4 * (6 * 2) + 4 * (2 * 4));
    expect(estimateMemory(architectureByName('tiny'), 'lion').bytes.optimizerState).toBe(4 * 929_280);
  });
});
