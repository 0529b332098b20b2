/** The AdamW rule against hand-computed steps (HF/GaLore bias-correction convention, decoupled decay), and its fused path against its primitive composition. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.ts';
import { CpuBackend } from '../../../src/kernels/cpu.ts';
import { ADAMW_DEFAULTS, TORCH_ADAMW_DEFAULTS } from '../../../src/galore/defaults.ts';
import { createOptimizer } from '../../../src/galore/index.ts';
import { applyUpdate } from '../../../src/galore/rule.ts';
import { adamwRule, resolveAdamW } from '../../../src/galore/rules/adamw.ts';
import { ParamStore } from '../../../src/tensor/params.ts';
import { Engine } from '../../../src/tensor/tensor.ts';
import { gaussian, maxAbsDiff } from '../helpers.ts';

/** float64 reference of the documented update for one element over a sequence of gradients. */
function reference(theta: number, grads: number[], o: { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number }): number {
  let m = 0;
  let v = 0;
  grads.forEach((g, index) => {
    const t = index + 1;
    m = o.beta1 * m + (1 - o.beta1) * g;
    v = o.beta2 * v + (1 - o.beta2) * g * g;
    theta -= (o.lr * Math.sqrt(1 - o.beta2 ** t) / (1 - o.beta1 ** t)) * m / (Math.sqrt(v) + o.eps);
    theta -= o.lr * o.weightDecay * theta;
  });
  return theta;
}

describe('AdamW', () => {
  it('three steps match the hand-computed update; 1-axis tensors are not decayed with decayMatricesOnly; states are lazily allocated', async () => {
    const engine = new Engine(new CpuBackend());
    const store = new ParamStore(engine);
    const matrix = store.add('w', 'mlp', [2, 2], [0.5, -1, 2, 0]);
    const vector = store.add('b', 'mlp', [2], [0.5, -1]);
    const options = { lr: 0.1, beta1: 0.8, beta2: 0.9, eps: 1e-3, weightDecay: 0.5 };
    const adamw = createOptimizer('adamw', store, { ...options, decayMatricesOnly: true });
    expect(adamw.stateBytes()).toBe(0);
    const gradients = [[0.3, -0.2, 1, 0], [0.1, 0.4, -2, 0.5], [-0.3, 0.1, 0.2, 0]];
    for (const g of gradients) {
      await adamw.step(new Map([[matrix, engine.fromArray(g, [2, 2], 'gradient')], [vector, engine.fromArray(g.slice(0, 2), [2], 'gradient')]]));
    }
    const w = matrix.tensor.readSync();
    [0.5, -1, 2, 0].forEach((theta, i) => {
      // f32 storage of θ, m, v: relative error ≲ a few u per step (u = 6e-8); 1e-6 absolute is ~10× that
      expect(w[i]).toBeCloseTo(reference(theta, gradients.map((g) => g[i]!), options), 6);
    });
    const b = vector.tensor.readSync();
    [0.5, -1].forEach((theta, i) => expect(b[i]).toBeCloseTo(reference(theta, gradients.map((g) => g[i]!), { ...options, weightDecay: 0 }), 6));
    expect(adamw.stateBytes()).toBe(2 * (4 + 2) * 4);
    expect(engine.ledger.currentBytes('optimizerState')).toBe(adamw.stateBytes());
    adamw.dispose();
    expect(engine.ledger.currentBytes('optimizerState')).toBe(0);
  });

  it('a zero gradient at step 1 only decays: θ(1 − lr·λ)', async () => {
    const engine = new Engine(new CpuBackend());
    const w = new ParamStore(engine).add('w', 'mlp', [1, 2], [2, -4]);
    await createOptimizer('adamw', [w], { lr: 0.01, weightDecay: 0.1 }).stepParam(w, engine.zeros([1, 2], 'gradient'));
    expect([...w.tensor.readSync()]).toEqual([...Float32Array.from([2 * 0.999, -4 * 0.999])]);
  });

  it('the fused adamStep equals the rule\'s direction plus the shared apply stage within float32 rounding', async () => {
    // the fused kernel rounds θ to float32 once per step, the composition three times (u, θ − ηu,
    // the decay): each rounding is ≤ 2⁻²⁴·|value|, so the paths drift apart by ≤ 4·2⁻²⁴ = 2 ulp of
    // max|θ| per step (the error is carried, not amplified: decay < 1); 5 steps → 10 ulp, 12 with
    // the pre-decay values up to (1 + ηλ) above the final max
    const engine = new Engine(new CpuBackend());
    const store = new ParamStore(engine);
    const fused = store.add('fused', 'mlp', [6, 5], Float32Array.from(gaussian(1, 30)));
    const composed = store.add('composed', 'mlp', [6, 5], Float32Array.from(gaussian(1, 30)));
    const rule = adamwRule(resolveAdamW({ beta1: 0.9, beta2: 0.99 }));
    const states = [rule.init(engine, [6, 5], fused), rule.init(engine, [6, 5], composed)];
    for (let step = 1; step <= 5; step++) {
      const grad = engine.fromArray(Float32Array.from(gaussian(10 + step, 30)), [6, 5], 'gradient');
      await rule.updateInPlace!(grad, states[0]!, { engine, lr: 0.05, step, param: fused }, 0.2);
      const update = await rule.update(grad, states[1]!, { engine, lr: 0.05, step, param: composed });
      applyUpdate(composed.tensor, update, 0.2, rule.decayBeforeUpdate);
      update.release();
      grad.dispose();
    }
    const scale = Math.max(...fused.tensor.readSync().map(Math.abs));
    expect(maxAbsDiff(fused.tensor.readSync(), composed.tensor.readSync())).toBeLessThanOrEqual(12 * 2 ** -23 * scale);
  });

  it('defaults and bad settings', async () => {
    expect(ADAMW_DEFAULTS).toEqual({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-6, weightDecay: 0 });
    expect(TORCH_ADAMW_DEFAULTS).toEqual({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decayMatricesOnly: true });
    expect(resolveAdamW({}).eps).toBe(1e-6);
    expect(resolveAdamW({ eightBit: true }).eps).toBe(1e-8);
    const engine = new Engine(new CpuBackend());
    const w = new ParamStore(engine).add('w', 'mlp', [2, 2], [0, 0, 0, 0]);
    expect(() => createOptimizer('adamw', [w], { beta2: 1 })).toThrow(new ConfigError('options.beta2 must be in [0, 1), got 1'));
    expect(() => createOptimizer('adamw', [w], { lr: Number.NaN })).toThrow('optimizer.lr must be a finite number ≥ 0, got NaN');
    await expect(createOptimizer('adamw', [w]).stepParam(w, engine.zeros([3], 'gradient'))).rejects.toThrow(/gradient \[3\] does not fit parameter "w" \[2, 2\]/);
  });
});
