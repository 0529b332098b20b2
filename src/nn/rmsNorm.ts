/**
 * RMSNorm (Zhang & Sennrich 2019, arXiv 1910.07467 eq. 4; LLaMA, Qwen2) over the last axis:
 *   y = x / √(mean(x²) + eps) · γ
 * written from differentiable primitives (square, mean, affine, rsqrt, mul), so the tape
 * differentiates it without a kernel of its own. Matches transformers' LlamaRMSNorm in float32.
 */
import type { Tensor } from '../tensor/tensor.ts';
import * as F from './functional.ts';

/** x [..., d], weight γ [d] → [..., d]. */
export function rmsNorm(x: Tensor, weight: Tensor, eps: number): Tensor {
  const meanSquare = F.meanLastAxis(F.square(x)); // [..., 1]
  const inverseRms = F.rsqrt(F.affine(meanSquare, 1, eps));
  return F.mul(F.mul(x, inverseRms), weight);
}
