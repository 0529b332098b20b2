/**
 * TT-SVD (Oseledets 2011, Alg. 1): sequential δ-truncated SVDs of the unfoldings.
 *
 * Contract: with δ = ε/√(d−1)·‖A‖_F, each step keeps the smallest rank r_k whose discarded singular
 * tail δ_k ≤ δ, so ‖A − TT(A)‖_F ≤ √(Σ_k δ_k²) ≤ ε‖A‖_F (Thm 2.2) — whenever no `maxRank` cap binds.
 * With caps the result is quasi-optimal: error ≤ √(d−1)·(best TT error at those ranks). Cores
 * 1..d−1 come out left-orthonormal. Cost is dominated by the first SVD of an n_1 × (N/n_1) matrix.
 * Bad input: non-positive ε or ranks → ConfigError; empty/non-integer shapes → ShapeError.
 */
import { type DenseTensor, denseTensor, frobenius } from './dense.ts';
import { thinSvd, truncationRank } from './linalg.ts';
import { resolveTruncation, type TruncationOptions } from './options.ts';
import { type Core3, type TTTensor, ttTensor } from './ttTensor.ts';

export function ttSvd(tensor: DenseTensor, options: TruncationOptions = {}): TTTensor {
  const a = denseTensor(tensor.shape, tensor.data, options.name ?? 'ttSvd input');
  const d = a.shape.length;
  const { relativeError, caps, name } = resolveTruncation(options, d, 'ttSvd');
  if (d === 1) return ttTensor([{ shape: [1, a.shape[0]!, 1], data: a.data }], name);

  const delta = (relativeError / Math.sqrt(d - 1)) * frobenius(a.data);
  const cores: Core3[] = [];
  let remainder = a.data; // C, reshaped per step
  let leftRank = 1;
  for (let k = 0; k < d - 1; k++) {
    const mode = a.shape[k]!;
    const rows = leftRank * mode;
    const cols = remainder.length / rows;
    const { u, s, vt } = thinSvd({ rows, cols, data: remainder });
    const rank = truncationRank(s, delta, caps[k + 1]!);

    const core = new Float64Array(rows * rank);
    for (let i = 0; i < rows; i++) for (let j = 0; j < rank; j++) core[i * rank + j] = u.data[i * u.cols + j]!;
    cores.push({ shape: [leftRank, mode, rank], data: core });

    remainder = new Float64Array(rank * cols); // diag(σ_1..σ_r)·Vᵀ[:r, :]
    for (let i = 0; i < rank; i++) for (let j = 0; j < cols; j++) remainder[i * cols + j] = s[i]! * vt.data[i * cols + j]!;
    leftRank = rank;
  }
  cores.push({ shape: [leftRank, a.shape[d - 1]!, 1], data: remainder });
  return ttTensor(cores, name);
}
