/**
 * Orthogonalisation and TT rounding (Oseledets 2011, Alg. 2): recompress a train whose ranks are
 * inflated (after addition, Hadamard products, …) without forming the full tensor.
 */
import { frobenius, matmulRaw } from './dense.ts';
import { thinQr, thinSvd, truncationRank } from './linalg.ts';
import { resolveTruncation, type TruncationOptions } from './options.ts';
import { type Core3, type TTTensor, ttTensor } from './ttTensor.ts';

/**
 * Right-to-left orthogonalisation, k = d..2: QR of reshape(G_k, r_{k−1}, n_k r_k)ᵀ = Q R;
 * G_k ← reshape(Qᵀ), G_{k−1} ← G_{k−1} ×₃ Rᵀ. Afterwards cores 2..d are right-orthonormal
 * (Σ_{i,b} G_k[a,i,b] G_k[a',i,b] = δ_{aa'}), so ‖X‖_F = ‖G_1‖_F. The represented tensor is unchanged
 * up to rounding; ranks may drop to min(r_{k−1}, n_k r_k).
 */
export function orthogonalizeRightToLeft(tt: TTTensor): TTTensor {
  const cores = tt.cores.map((core) => ({ shape: core.shape, data: core.data }) as Core3);
  for (let k = cores.length - 1; k >= 1; k--) {
    const [left, mode, right] = cores[k]!.shape;
    // Transposed unfolding [n_k r_k, r_{k−1}].
    const unfolding = new Float64Array(left * mode * right);
    const cols = mode * right;
    for (let a = 0; a < left; a++) for (let c = 0; c < cols; c++) unfolding[c * left + a] = cores[k]!.data[a * cols + c]!;
    const { q, r } = thinQr({ rows: cols, cols: left, data: unfolding });
    const newRank = q.cols;
    const qt = new Float64Array(newRank * cols);
    for (let c = 0; c < cols; c++) for (let a = 0; a < newRank; a++) qt[a * cols + c] = q.data[c * newRank + a]!;
    cores[k] = { shape: [newRank, mode, right], data: qt };

    // G_{k−1} [r_{k−2} n_{k−1}, r_{k−1}] · Rᵀ [r_{k−1}, newRank].
    const [prevLeft, prevMode] = cores[k - 1]!.shape;
    const rt = new Float64Array(left * newRank);
    for (let i = 0; i < newRank; i++) for (let j = 0; j < left; j++) rt[j * newRank + i] = r.data[i * left + j]!;
    cores[k - 1] = { shape: [prevLeft, prevMode, newRank], data: matmulRaw(cores[k - 1]!.data, rt, prevLeft * prevMode, left, newRank) };
  }
  return ttTensor(cores, 'orthogonalized tt');
}

/**
 * TT rounding: right-to-left orthogonalisation, then left-to-right δ-truncated SVDs of
 * reshape(G_k, r_{k−1} n_k, r_k) with δ = ε/√(d−1)·‖X‖_F, pushing Σ·Vᵀ into G_{k+1}.
 * Contract: ‖X − round(X)‖_F ≤ ε‖X‖_F when no `maxRank` cap binds (Oseledets 2011, §3); cost
 * O(d n r³). Omitting ε keeps every rank up to the cap (rounding to ~machine precision).
 */
export function round(tt: TTTensor, options: TruncationOptions = {}): TTTensor {
  const d = tt.cores.length;
  const { relativeError, caps, name } = resolveTruncation(options, d, 'round');
  const orth = orthogonalizeRightToLeft(tt);
  if (d === 1) return orth;
  const cores = [...orth.cores];
  const delta = (relativeError / Math.sqrt(d - 1)) * frobenius(cores[0]!.data);
  for (let k = 0; k < d - 1; k++) {
    const [left, mode, right] = cores[k]!.shape;
    const rows = left * mode;
    const { u, s, vt } = thinSvd({ rows, cols: right, data: cores[k]!.data });
    const rank = truncationRank(s, delta, caps[k + 1]!);
    const core = new Float64Array(rows * rank);
    for (let i = 0; i < rows; i++) for (let j = 0; j < rank; j++) core[i * rank + j] = u.data[i * u.cols + j]!;
    cores[k] = { shape: [left, mode, rank], data: core };

    const sv = new Float64Array(rank * right); // Σ_r · V_rᵀ [rank, r_k]
    for (let i = 0; i < rank; i++) for (let j = 0; j < right; j++) sv[i * right + j] = s[i]! * vt.data[i * right + j]!;
    const [, nextMode, nextRight] = cores[k + 1]!.shape;
    cores[k + 1] = { shape: [rank, nextMode, nextRight], data: matmulRaw(sv, cores[k + 1]!.data, rank, right, nextMode * nextRight) };
  }
  return ttTensor(cores, name);
}
