/**
 * LOZO-M (zo-estimators.md §3.3; optsuite/LOZO medium_models/src/LOZOtrainer.py
 * `lowrank_zo_update_momentum`): momentum kept in the low-rank factor space.
 *
 * Per matrix W [m, n] with the window's V [n, r], state N [m, r]; with Ū = (1/q) Σ_j c_j U_j:
 *   first step ever:            N ← Ū                                  (no (1−β) factor)
 *   step that redrew V (t > 0): N ← β · N V_oldᵀ V_new / n + (1−β) Ū     (re-projection, n = rows of V)
 *   otherwise:                  N ← β N + (1−β) Ū
 *   then                        W ← (1 − ηλ) W − η N Vᵀ
 * 1-D tensors keep a dense momentum m ← β m + (1−β) ĝ (first step m = ĝ), θ ← (1 − ηλ)θ − η m.
 * Memory: N (m·r per matrix) plus dense m for the 1-D tensors; V_old only during the redraw step.
 * Requires the lowRank perturbation (checked when the estimator is created).
 */
import type { Tensor } from '../../tensor/index.ts';
import { isLowRankDirection, type LowRankDirection } from '../perturbations/lowRank.ts';
import { coefficient, option } from '../options.ts';
import { bufferTensors, loadBuffers } from './savedBuffers.ts';
import { addEstimate, descend } from './stages.ts';
import type { ZoOptimizer } from '../types.ts';
import { decayFactor } from '../weightDecay.ts';

export interface LowRankMomentumState {
  readonly started: boolean;
  /** keyed by param.index: N [rows, rank] for matrices, dense m for the rest. */
  readonly buffers: ReadonlyMap<number, Tensor>;
}

export const lowRankMomentum: ZoOptimizer<LowRankMomentumState, 'beta'> = {
  kind: 'optimizer',
  name: 'lowRankMomentum',
  description: 'LOZO-M: N ← βN + (1−β)cU in the low-rank space, W ← W − η N Vᵀ; re-projected when V changes',
  requiresLowRank: true,
  options: {
    beta: option(0.9, coefficient, 'β, LOZO-M momentum coefficient', 'LOZO medium_models/lozo.sh [C] (run_lozo.py default is 0.7)'),
  },
  init(ctx) {
    const buffers = new Map<number, Tensor>();
    for (const param of ctx.params) {
      const shape = param.tensor.rank >= 2 ? [param.tensor.shape[0]!, ctx.optionsOf('perturbation').rank!] : param.tensor.shape;
      buffers.set(param.index, ctx.engine.zeros(shape, 'optimizerState'));
    }
    return { started: false, buffers };
  },
  async update(ctx, state) {
    const { lr, queries, engine } = ctx;
    const backend = engine.backend;
    const beta = ctx.options.beta;
    const count = queries.length;
    const directions = queries.map((query) => query.direction as LowRankDirection);
    if (!directions.every(isLowRankDirection)) throw new Error('lowRankMomentum: the perturbation did not produce low-rank directions');
    for (const param of ctx.params) {
      const buffer = state.buffers.get(param.index)!;
      const decay = decayFactor(param, lr, ctx.options.weightDecay);
      const factors = directions[0]!.factors(param);
      const keep = state.started ? beta : 0;
      const mix = state.started ? 1 - beta : 1;
      if (!factors) {
        addEstimate(ctx, param, buffer, mix, keep);
        descend(param, buffer, lr, decay);
        continue;
      }
      const { rows, cols, rank, V, previousV } = factors;
      if (state.started && previousV) {
        // N ← β · N (V_oldᵀ V_new) / n: an [r, r] change of basis, then one [m, r]·[r, r] product.
        const basis = engine.zeros([rank, rank], 'workspace');
        backend.matmul(previousV.buffer, V.buffer, basis.buffer, { batch: 1, m: rank, n: rank, k: cols, transA: true });
        const projected = engine.zeros([rows, rank], 'workspace');
        backend.matmul(buffer.buffer, basis.buffer, projected.buffer, { batch: 1, m: rows, n: rank, k: rank, alpha: beta / cols });
        backend.copy(projected.buffer, buffer.buffer);
        basis.dispose();
        projected.dispose();
      } else if (keep !== 1) {
        backend.affine(buffer.buffer, buffer.buffer, keep, 0);
      }
      const U = engine.zeros([rows, rank], 'workspace');
      queries.forEach((query, j) => {
        directions[j]!.fillU(param, U);
        backend.axpby((mix * query.projectedGradient) / count, U.buffer, 1, buffer.buffer);
      });
      U.dispose();
      if (decay !== 1) backend.affine(param.tensor.buffer, param.tensor.buffer, decay, 0);
      backend.matmul(buffer.buffer, V.buffer, param.tensor.buffer, {
        batch: 1, m: rows, n: cols, k: rank, transB: true, alpha: -lr, accumulate: true,
      });
    }
    return { state: { ...state, started: true } };
  },
  save: (state) => ({ json: { started: state.started }, tensors: bufferTensors('momentum', state.buffers) }),
  load(state, saved) {
    loadBuffers('momentum', state.buffers, saved.tensors);
    return { ...state, started: (saved.json as { started: boolean }).started };
  },
  dispose(state) {
    for (const buffer of state.buffers.values()) buffer.dispose();
  },
};
