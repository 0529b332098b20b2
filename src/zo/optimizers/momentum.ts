/**
 * ZO-SGD-MMT (ZO-Bench `zo_sgd --momentum β`, zo-estimators.md §4.1), torch SGD convention without
 * dampening: m ← β m + (ĝ + λθ), θ ← θ − η m, first step m = ĝ + λθ (m starts at 0). ĝ = (1/q)Σ c_j Z_j.
 * Needs one dense buffer per trainable tensor (category optimizerState: +P floats).
 */
import type { Tensor } from '../../tensor/index.ts';
import { coefficient, option } from '../options.ts';
import { bufferTensors, loadBuffers } from './savedBuffers.ts';
import { addEstimate, descend } from './stages.ts';
import type { ZoOptimizer } from '../types.ts';
import { addDecayedWeights } from '../weightDecay.ts';

export interface MomentumState {
  /** keyed by param.index. */
  readonly buffers: ReadonlyMap<number, Tensor>;
}

export const momentum: ZoOptimizer<MomentumState, 'momentum'> = {
  kind: 'optimizer',
  name: 'momentum',
  description: 'm ← βm + ĝ + λθ, θ ← θ − ηm (torch SGD momentum, no dampening); +P floats of state',
  options: {
    momentum: option(0.9, coefficient, 'β, momentum coefficient', 'ZO-Bench `--momentum 0.9` [C]'),
  },
  init(ctx) {
    const buffers = new Map<number, Tensor>();
    for (const param of ctx.params) buffers.set(param.index, ctx.engine.zeros(param.tensor.shape, 'optimizerState'));
    return { buffers };
  },
  async update(ctx, state) {
    for (const param of ctx.params) {
      const buffer = state.buffers.get(param.index)!;
      addEstimate(ctx, param, buffer, 1, ctx.options.momentum);
      addDecayedWeights(param, buffer, ctx.options.weightDecay);
      descend(param, buffer, ctx.lr);
    }
    return { state };
  },
  save: (state) => ({ json: null, tensors: bufferTensors('momentum', state.buffers) }),
  load(state, saved) {
    loadBuffers('momentum', state.buffers, saved.tensors);
    return state;
  },
  dispose(state) {
    for (const buffer of state.buffers.values()) buffer.dispose();
  },
};
