/**
 * ZO-Adam (ZO-Bench `zo_adam`, zo-estimators.md §4.1): Adam fed with g = ĝ + λθ (coupled L2 as torch
 * Adam's weight_decay; λ = 0 in the ZO-Bench sweeps), β = (0.9, 0.999), eps 1e-8. Per tensor: a
 * transient gradient buffer (category gradient, one tensor at a time as in the ZO-Bench code),
 * then the backend's fused `adamStep`: m ← β1 m + (1−β1) g, v ← β2 v + (1−β2) g²,
 * θ ← θ − η·√(1−β2ᵗ)/(1−β1ᵗ)·m/(√v + eps). That bias correction places eps as Hugging Face does;
 * torch's Adam uses m̂/(√v̂ + eps), i.e. eps larger by √(1−β2ᵗ) — identical unless √v ≈ eps.
 * State: m and v, +2P floats (optimizerState).
 */
import type { Tensor } from '../../tensor/index.ts';
import { coefficient, option, positive } from '../options.ts';
import { bufferTensors, loadBuffers } from './savedBuffers.ts';
import { addEstimate } from './stages.ts';
import type { ZoOptimizer } from '../types.ts';
import { addDecayedWeights } from '../weightDecay.ts';

export interface AdamState {
  /** number of Adam steps taken (bias correction uses count + 1 for the next). */
  readonly count: number;
  readonly moments: ReadonlyMap<number, { m: Tensor; v: Tensor }>;
}

export const adam: ZoOptimizer<AdamState, 'beta1' | 'beta2' | 'adamEps'> = {
  kind: 'optimizer',
  name: 'adam',
  description: 'Adam on ĝ + λθ (torch defaults β1 0.9, β2 0.999, eps 1e-8); +2P floats of state',
  options: {
    beta1: option(0.9, coefficient, 'β1, first-moment decay', 'torch Adam default, ZO-Bench zo_adam [C]'),
    beta2: option(0.999, coefficient, 'β2, second-moment decay', 'torch Adam default, ZO-Bench zo_adam [C]'),
    adamEps: option(1e-8, positive, 'Adam denominator epsilon', 'torch Adam default, ZO-Bench zo_adam [C]'),
  },
  init(ctx) {
    const moments = new Map<number, { m: Tensor; v: Tensor }>();
    for (const param of ctx.params) {
      moments.set(param.index, {
        m: ctx.engine.zeros(param.tensor.shape, 'optimizerState'),
        v: ctx.engine.zeros(param.tensor.shape, 'optimizerState'),
      });
    }
    return { count: 0, moments };
  },
  async update(ctx, state) {
    const { lr, options } = ctx;
    const backend = ctx.engine.backend;
    const spec = { lr, beta1: options.beta1, beta2: options.beta2, eps: options.adamEps, weightDecay: 0, step: state.count + 1 };
    for (const param of ctx.params) {
      const gradient = ctx.engine.zeros(param.tensor.shape, 'gradient');
      addEstimate(ctx, param, gradient);
      addDecayedWeights(param, gradient, options.weightDecay);
      const { m, v } = state.moments.get(param.index)!;
      // the Adam transformation and the apply stage fused in one kernel (θ ← θ − η·c_t·m/(√v + eps))
      backend.adamStep(param.tensor.buffer, gradient.buffer, m.buffer, v.buffer, spec);
      gradient.dispose();
    }
    return { state: { ...state, count: state.count + 1 } };
  },
  save(state) {
    const first = new Map([...state.moments].map(([index, { m }]) => [index, m]));
    const second = new Map([...state.moments].map(([index, { v }]) => [index, v]));
    return { json: { count: state.count }, tensors: { ...bufferTensors('m', first), ...bufferTensors('v', second) } };
  },
  load(state, saved) {
    loadBuffers('m', new Map([...state.moments].map(([index, { m }]) => [index, m])), saved.tensors);
    loadBuffers('v', new Map([...state.moments].map(([index, { v }]) => [index, v])), saved.tensors);
    return { ...state, count: (saved.json as { count: number }).count };
  },
  dispose(state) {
    for (const { m, v } of state.moments.values()) {
      m.dispose();
      v.dispose();
    }
  },
};
