/**
 * Theoretical dimension factor E‖ĝ‖²/‖g‖² of a ZO estimate over a model whose parameters are
 * several tensors, each perturbed by its own independent, zero-mean direction Z_k (zolo keys every
 * tensor's noise separately). With c = Σ_k ⟨Z_k, G_k⟩ and ĝ_j = s_j·c·Z_j (s_j a per-tensor scale:
 * 1/r for LOZO's matrices under the paper's convention, else 1), the cross terms vanish by
 * independence and zero means, leaving
 *
 *   E‖ĝ‖² = Σ_j s_j² [ A_j‖G_j‖² + D_j·(Σ_{k≠j} B_k‖G_k‖²) ],
 *   A_j = E[⟨Z_j,G_j⟩²‖Z_j‖²]/‖G_j‖²,  B_k = E⟨Z_k,G_k⟩²/‖G_k‖²,  D_j = E‖Z_j‖²,
 *
 * which depends on how the gradient's energy splits over the tensors (passed in). Per tensor:
 *   Gaussian z (n values):        A = n + 2,  B = 1,  D = n              (Isserlis)
 *   Rademacher z (n values):      A = n,      B = 1,  D = n              (‖z‖² ≡ n)
 *   LOZO U Vᵀ (m×n, rank r):      A = r²·F,   B = r,  D = r·m·n,
 *     F = [r(m+2)(n+2) + r(r−1)(mn+2)]/r²  (lozoDimensionFactor; zo-estimators.md §3.7, §5.12)
 * For all-Gaussian tensors the sum collapses to d + 2 whatever the split (MeZO Lemma 2 with n = 1);
 * the sphere direction (one joint direction of norm √d) gives exactly d. Averaging q independent
 * queries keeps the mean and divides the excess by q: F_q = 1 + (F₁ − 1)/q, which is (d + q + 1)/q
 * for Gaussian SPSA (gaussianDimensionFactor).
 */
import { ConfigError } from '../../errors.ts';
import { lozoDimensionFactor } from '../../assumptions/estimatorQuality.ts';

export type TensorNoise =
  | { kind: 'gaussian'; size: number }
  | { kind: 'rademacher'; size: number }
  | { kind: 'lowRank'; rows: number; cols: number; rank: number };

export interface TensorTerm {
  noise: TensorNoise;
  /** ‖G_k‖², the true gradient's energy on this tensor. */
  gradientEnergy: number;
}

interface Moments {
  a: number;
  b: number;
  d: number;
  /** s², the squared scale applied to this tensor's part of the estimate. */
  s2: number;
}

function moments(noise: TensorNoise, paperScaling: boolean): Moments {
  switch (noise.kind) {
    case 'gaussian':
      return { a: noise.size + 2, b: 1, d: noise.size, s2: 1 };
    case 'rademacher':
      return { a: noise.size, b: 1, d: noise.size, s2: 1 };
    case 'lowRank': {
      const { rows, cols, rank } = noise;
      return { a: rank * rank * lozoDimensionFactor(rows, cols, rank), b: rank, d: rank * rows * cols, s2: paperScaling ? 1 / (rank * rank) : 1 };
    }
  }
}

/** Single-query factor E‖ĝ‖²/‖g‖² for independent per-tensor directions (see the module comment). */
export function combinedDimensionFactor(terms: readonly TensorTerm[], paperScaling = true): number {
  const total = terms.reduce((s, t) => s + t.gradientEnergy, 0);
  if (!(total > 0)) throw new ConfigError('combinedDimensionFactor: the gradient has no energy on these tensors');
  const m = terms.map((t) => moments(t.noise, paperScaling));
  const weighted = terms.reduce((s, t, k) => s + m[k]!.b * t.gradientEnergy, 0);
  let sum = 0;
  terms.forEach((t, j) => {
    const { a, b, d, s2 } = m[j]!;
    sum += s2 * (a * t.gradientEnergy + d * (weighted - b * t.gradientEnergy));
  });
  return sum / total;
}

/** Factor of the mean of q independent queries: 1 + (F₁ − 1)/q. */
export function averagedDimensionFactor(singleQuery: number, queries: number): number {
  return 1 + (singleQuery - 1) / queries;
}
