/**
 * ZO-SGD (MeZO Def. 2, Algorithm 1; ZO-Bench `zo_sgd`): θ ← θ − η(ĝ + λθ) on decayed tensors,
 * θ ← θ − ηĝ on the others, with ĝ = (1/q) Σ_j c_j Z_j (n-SPSA average, §1.4).
 *
 * Implemented with the seed trick and no buffers: the last query's restore is fused with the decay
 * and its own update term (§1.2 "Fusing steps 5 and 6"),
 *     θ ← (1 − ηλ)(θ_now + ρZ_q) − η(c_q/q)Z_q      (θ_now + ρZ_q = θ, ρ = pending restore)
 * in one `perturbInPlace(decay = 1 − ηλ)` per tensor; the other queries add −η(c_j/q)Z_j. The result
 * equals the unfused update to float rounding.
 */
import { decayFactor } from '../weightDecay.ts';
import type { QueryEstimate, UpdateContext, ZoOptimizer } from '../types.ts';

/** θ ← (1−ηλ)θ − (η/q) Σ_j coefficient(j)·Z_j, fused with the pending restore. */
export function applySeedTrickUpdate(ctx: UpdateContext, coefficient: (query: QueryEstimate) => number): void {
  const { queries, lr } = ctx;
  const count = queries.length;
  const last = queries[count - 1]!;
  for (const param of ctx.params) {
    const decay = decayFactor(param, lr, ctx.options.weightDecay);
    last.direction.addTo(param, param.tensor, decay * ctx.pendingRestore - (lr * coefficient(last)) / count, decay);
    for (let j = 0; j < count - 1; j++) {
      const query = queries[j]!;
      query.direction.addTo(param, param.tensor, -(lr * coefficient(query)) / count);
    }
  }
}

export const sgd: ZoOptimizer<null, never> = {
  kind: 'optimizer',
  name: 'sgd',
  description: 'θ ← θ − η(ĝ + λθ); seed trick, no state (MeZO / ZO-SGD)',
  options: {},
  fusesRestore: true,
  init: () => null,
  async update(ctx, state) {
    applySeedTrickUpdate(ctx, (query) => query.projectedGradient);
    return { state };
  },
  dispose: () => {},
};
