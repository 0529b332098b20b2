/**
 * The stages ZO optimizers are composed of (optax's chain, over regenerated directions instead of
 * a stored gradient): accumulate the estimate ĝ = (1/q) Σ_j c_j Z_j into a buffer, add the decayed
 * weights (src/zo/weightDecay.ts), apply θ ← d·θ − η·u. Each is one pass per tensor, in place.
 * Seed-trick SGD (sgd.ts) fuses all three with the restore instead and needs no buffer.
 */
import type { Param, Tensor } from '../../tensor/index.ts';
import type { UpdateContext } from '../types.ts';

/**
 * target ← keep·target + (scale/q) Σ_j c_j Z_j for `param`: the first direction's pass applies
 * `keep` (momentum's β; 1 to add to what is there), so the whole stage is q passes.
 */
export function addEstimate(ctx: UpdateContext, param: Param, target: Tensor, scale = 1, keep = 1): void {
  const count = ctx.queries.length;
  ctx.queries.forEach((query, j) => {
    query.direction.addTo(param, target, (scale * query.projectedGradient) / count, j === 0 ? keep : 1);
  });
}

/** The apply stage, θ ← decay·θ − η·update (decay = 1 − ηλ when λ is folded into θ, 1 when it went into the update). */
export function descend(param: Param, update: Tensor, lr: number, decay = 1): void {
  param.tensor.backend.axpby(-lr, update.buffer, decay, param.tensor.buffer);
}
