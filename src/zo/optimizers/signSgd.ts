/**
 * ZO-SGD-Sign (ZO-Bench `zo_sign_opt`, zo-estimators.md §4.1): the active code feeds sign(c)·z to a
 * plain SGD step, so θ ← θ − η(sign(c)·Z + λθ). With q queries zolo averages the signed directions,
 * ĝ_sign = (1/q) Σ_j sign(c_j) Z_j, which keeps the seed trick (no buffers). The commented-out
 * alternative of the code, elementwise sign(c·z), is not implemented. sign(0) = 0 (no move).
 */
import type { ZoOptimizer } from '../types.ts';
import { applySeedTrickUpdate } from './sgd.ts';

export const signSgd: ZoOptimizer<null, never> = {
  kind: 'optimizer',
  name: 'signSgd',
  description: 'θ ← θ − η(sign(c)·z + λθ); seed trick, no state (ZO-Bench zo_sign_opt)',
  options: {},
  fusesRestore: true,
  init: () => null,
  async update(ctx, state) {
    applySeedTrickUpdate(ctx, (query) => Math.sign(query.projectedGradient));
    return { state };
  },
  dispose: () => {},
};
