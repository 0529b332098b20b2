/**
 * Global gradient-norm clipping (Pascanu et al. 2013, arXiv 1211.5063 Alg. 2; torch.nn.utils.clip_grad_norm_):
 * ‖g‖ = √(Σ_params Σ g²); if ‖g‖ > maxNorm every gradient is scaled in place by maxNorm/(‖g‖ + 1e-6).
 * Returns ‖g‖ before clipping (float64 accumulation of the backend's sums of squares).
 * Bad input: maxNorm ≤ 0 or non-finite → ConfigError. A non-finite norm is returned unchanged and nothing is scaled.
 */
import { ConfigError } from '../errors.ts';
import type { Param } from '../tensor/params.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** torch's clip_grad_norm_ guard against division by a zero norm. */
const NORM_EPS = 1e-6;

export async function clipGradNorm(grads: ReadonlyMap<Param, Tensor>, maxNorm: number): Promise<number> {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) throw new ConfigError(`maxNorm must be a positive finite number, got ${maxNorm}`);
  let squares = 0;
  for (const grad of grads.values()) squares += await grad.backend.sumSquares(grad.buffer);
  const norm = Math.sqrt(squares);
  if (Number.isFinite(norm) && norm > maxNorm) {
    const factor = maxNorm / (norm + NORM_EPS);
    for (const grad of grads.values()) grad.backend.axpby(0, grad.buffer, factor, grad.buffer);
  }
  return norm;
}
