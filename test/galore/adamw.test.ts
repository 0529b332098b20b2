/** AdamW against hand-computed steps (HF/GaLore bias-correction convention, decoupled decay on ≥ 2-axis tensors only). */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/kernels/errors.ts';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { ADAMW_DEFAULTS, AdamW } from '../../src/galore/adamw.ts';
import { ParamStore } from '../../src/tensor/params.ts';
import { Engine } from '../../src/tensor/tensor.ts';

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
  it('three steps match the hand-computed update; 1-axis tensors are not decayed; states are lazily allocated', () => {
    const engine = new Engine(new CpuBackend());
    const store = new ParamStore(engine);
    const matrix = store.add('w', 'mlp', [2, 2], [0.5, -1, 2, 0]);
    const vector = store.add('b', 'mlp', [2], [0.5, -1]);
    const options = { lr: 0.1, beta1: 0.8, beta2: 0.9, eps: 1e-3, weightDecay: 0.5 };
    const adamw = new AdamW(options);
    expect(adamw.stateBytes()).toBe(0);
    const gradients = [[0.3, -0.2, 1, 0], [0.1, 0.4, -2, 0.5], [-0.3, 0.1, 0.2, 0]];
    for (const g of gradients) {
      adamw.step(new Map([[matrix, engine.fromArray(g, [2, 2], 'gradient')], [vector, engine.fromArray(g.slice(0, 2), [2], 'gradient')]]));
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
    expect(adamw.stepsOf(matrix)).toBe(3);
    adamw.dispose();
    expect(engine.ledger.currentBytes('optimizerState')).toBe(0);
  });

  it('a zero gradient at step 1 only decays: θ(1 − lr·λ)', () => {
    const engine = new Engine(new CpuBackend());
    const w = new ParamStore(engine).add('w', 'mlp', [1, 2], [2, -4]);
    new AdamW({ lr: 0.01, weightDecay: 0.1 }).stepParam(w, engine.zeros([1, 2], 'gradient'));
    expect([...w.tensor.readSync()]).toEqual([...Float32Array.from([2 * 0.999, -4 * 0.999])]);
  });

  it('defaults and bad settings', () => {
    expect(ADAMW_DEFAULTS).toEqual({ lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
    expect(() => new AdamW({ beta2: 1 })).toThrow(new ConfigError('adamw.beta2 must be in [0, 1), got 1'));
    expect(() => new AdamW({ lr: Number.NaN })).toThrow(/adamw.lr must be a finite number, got NaN/);
    const engine = new Engine(new CpuBackend());
    const w = new ParamStore(engine).add('w', 'mlp', [2, 2], [0, 0, 0, 0]);
    expect(() => new AdamW().stepParam(w, engine.zeros([3], 'gradient'))).toThrow(/gradient \[3\] does not fit parameter "w" \[2, 2\]/);
  });
});
