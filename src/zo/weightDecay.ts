/**
 * Coupled L2 weight decay λ of the ZO optimizers, written once: which tensors decay, and its two
 * algebraic forms. The official MeZO/LOZO code skips tensors whose *name* contains `bias`,
 * `layer_norm` or `layernorm` (zo-estimators.md §1.3); that rule misses RoBERTa's `LayerNorm` and
 * LLaMA's `norm`. zolo decides by tensor rank instead — ndim < 2 (biases, norm gains) ⇒ no decay;
 * matrices and embeddings ⇒ decay — the re-implementation §1.3 recommends. For GPT-style models the
 * two rules pick the same tensors.
 *
 *   decayFactor        SGD-type steps fold λ into θ: θ − η(u + λθ) = (1 − ηλ)θ − ηu
 *   addDecayedWeights  stateful optimizers feed g + λθ to their statistics (torch SGD/Adam `weight_decay`)
 */
import type { Param, Tensor } from '../tensor/index.ts';

export function isDecayed(param: Param): boolean {
  return param.tensor.rank >= 2;
}

/** The multiplicative factor of coupled L2 decay in one SGD step, θ ← (1 − ηλ)θ − η·ĝ. */
export function decayFactor(param: Param, lr: number, weightDecay: number): number {
  return weightDecay > 0 && isDecayed(param) ? 1 - lr * weightDecay : 1;
}

/** target ← target + λθ (a gradient or momentum buffer of the parameter's size). */
export function addDecayedWeights(param: Param, target: Tensor, weightDecay: number): void {
  if (weightDecay > 0 && isDecayed(param)) param.tensor.backend.axpby(weightDecay, param.tensor.buffer, 1, target.buffer);
}
