/**
 * Rotary position embedding (Su et al. 2021, arXiv 2104.09864 eq. 34) in the "rotate half" layout
 * of GPT-NeoX, LLaMA and Qwen2 (transformers' apply_rotary_pos_emb): with x = [x₁, x₂] split into
 * halves of a head of width D,
 *   rope(x)_t = x_t ⊙ cos(t·ω) + rotateHalf(x_t) ⊙ sin(t·ω),   rotateHalf([x₁, x₂]) = [−x₂, x₁],
 *   ω_i = θ^(−2i/D) for i < D/2, repeated for the second half.
 * rotateHalf is a product with a fixed signed permutation matrix, so the whole map is built from
 * matmul, mul and add and the tape differentiates it as it is. Angles are computed in float64.
 */
import type { Engine, Tensor } from '../tensor/tensor.ts';
import * as F from './functional.ts';

export interface RotaryTables {
  /** [T, D] cos(t·ω) and sin(t·ω). */
  cos: Tensor;
  sin: Tensor;
  /** [D, D] with x·R = rotateHalf(x). */
  rotateHalf: Tensor;
}

/** Tables for positions 0 … seq−1 of heads of width headDim (even) and base θ. */
export function rotaryTables(engine: Engine, seq: number, headDim: number, theta: number): RotaryTables {
  const half = headDim / 2;
  const cos = new Float32Array(seq * headDim);
  const sin = new Float32Array(seq * headDim);
  for (let t = 0; t < seq; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * theta ** (-(2 * i) / headDim);
      cos[t * headDim + i] = cos[t * headDim + i + half] = Math.cos(angle);
      sin[t * headDim + i] = sin[t * headDim + i + half] = Math.sin(angle);
    }
  }
  const rotate = new Float32Array(headDim * headDim);
  for (let j = 0; j < half; j++) {
    rotate[(j + half) * headDim + j] = -1; // out[j] = −x[j + D/2]
    rotate[j * headDim + j + half] = 1; // out[j + D/2] = x[j]
  }
  return {
    cos: engine.fromArray(cos, [seq, headDim], 'activation'),
    sin: engine.fromArray(sin, [seq, headDim], 'activation'),
    rotateHalf: engine.fromArray(rotate, [headDim, headDim], 'activation'),
  };
}

/** x [B, H, T, D] → the same shape, position t rotated by t·ω. */
export function applyRotary(x: Tensor, tables: RotaryTables): Tensor {
  return F.add(F.mul(x, tables.cos), F.mul(F.matmul(x, tables.rotateHalf), tables.sin));
}
