/**
 * Top-k singular vectors of a gradient, on the host. GaLore needs them once every T steps
 * (galore.md §2.3), so this is off the hot path and may use a library (DESIGN.md "Tensor trains":
 * small SVDs may use a well-kept library).
 *
 * Two routes:
 * - `exactTopSvd`: ml-matrix's one-sided Golub–Kahan SVD. ml-matrix computes in float64 only,
 *   and we keep it that way on purpose: the exact route is the accuracy oracle the randomized
 *   route and the tests are compared with (the reference runs torch.linalg.svd in fp32; float64
 *   only makes our projector closer to the true singular vectors, never further).
 * - `randomizedTopSvd`: Halko, Martinsson & Tropp (2011) Alg. 4.4 (randomized subspace
 *   iteration) + Alg. 5.1 (direct SVD of the small B = QᵀA), with the Gaussian test matrix drawn
 *   from zolo's counter RNG so a refresh is reproducible from its noise stream (seed, parameter, purpose galore.randomizedSvd). Error (their
 *   Thm 10.6 / Cor. 10.10): E‖A − QQᵀA‖ ≤ [1 + 4√(k+p)/(p−1)·√min(m,n)]^{1/(2q+1)} σ_{k+1};
 *   exact (to rounding) whenever rank(A) ≤ k + p.
 *
 * Matrices are dense row-major Float64Arrays. Singular vectors are unique only up to sign (and
 * rotation within equal singular values), so callers compare subspaces (galore.md §6.11).
 */
import { Matrix, SVD } from 'ml-matrix';
import { fillNoiseNormals, type NoiseKey } from '../kernels/noiseStreams.ts';
import { matmulRaw } from '../tensortrain/dense.ts';

export interface TopSingular {
  /** top-k left singular vectors, m×k row-major (null unless requested). */
  left: Float64Array | null;
  /** top-k singular values, descending. */
  values: Float64Array;
  /** top-k right singular vectors as rows, k×n row-major (Vhₖ; null unless requested). */
  rightT: Float64Array | null;
}

export interface Want {
  left: boolean;
  right: boolean;
}

/** Exact thin SVD (float64), truncated to k = min(k, m, n). Input m×n row-major, any float array. */
export function exactTopSvd(a: ArrayLike<number>, m: number, n: number, k: number, want: Want): TopSingular {
  const rank = Math.min(k, m, n);
  const matrix = new Matrix(m, n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) matrix.set(i, j, a[i * n + j]!);
  const svd = new SVD(matrix, {
    computeLeftSingularVectors: want.left,
    computeRightSingularVectors: want.right,
    autoTranspose: true,
  });
  const values = Float64Array.from(svd.diagonal.slice(0, rank));
  let left: Float64Array | null = null;
  let rightT: Float64Array | null = null;
  if (want.left) {
    const u = svd.leftSingularVectors;
    left = new Float64Array(m * rank);
    for (let i = 0; i < m; i++) for (let j = 0; j < rank; j++) left[i * rank + j] = u.get(i, j);
  }
  if (want.right) {
    const v = svd.rightSingularVectors;
    rightT = new Float64Array(rank * n);
    for (let j = 0; j < rank; j++) for (let i = 0; i < n; i++) rightT[j * n + i] = v.get(i, j);
  }
  return { left, values, rightT };
}

export interface RandomizedOptions {
  /** p: extra sample columns beyond k. */
  oversampling: number;
  /** q: power (subspace) iterations; each costs two passes over A. */
  powerIterations: number;
  /** the noise stream of the Gaussian test matrix Ω and of the fallback columns. */
  key: NoiseKey;
}

/** Randomized top-k SVD (Halko et al. 2011, Alg. 4.4 + 5.1). Same contract as exactTopSvd. */
export function randomizedTopSvd(
  a: ArrayLike<number>, m: number, n: number, k: number, want: Want, options: RandomizedOptions,
): TopSingular {
  const rank = Math.min(k, m, n);
  const samples = Math.min(rank + options.oversampling, m, n);
  const A = Float64Array.from(a as ArrayLike<number>);
  const omega = new Float64Array(n * samples);
  fillNoiseNormals(omega, options.key);
  // fallback columns are drawn past Ω's n·samples elements of the same stream
  const fallback = { key: options.key, offset: n * samples };
  let Q = orthonormalColumns(matmulRaw(A, omega, m, n, samples), m, samples, fallback);
  for (let iteration = 0; iteration < options.powerIterations; iteration++) {
    const Z = orthonormalColumns(multiplyTransA(A, Q, m, n, samples), n, samples, fallback);
    Q = orthonormalColumns(matmulRaw(A, Z, m, n, samples), m, samples, fallback);
  }
  // B = QᵀA (samples×n); its SVD B = Ũ Σ Vᵀ gives A ≈ (QŨ) Σ Vᵀ.
  const B = multiplyTransA(Q, A, m, samples, n);
  const small = exactTopSvd(B, samples, n, rank, { left: want.left, right: want.right });
  let left: Float64Array | null = null;
  if (want.left) left = matmulRaw(Q, small.left!, m, samples, rank);
  return { left, values: small.values, rightT: small.rightT };
}

/** C = Aᵀ·B with A r×k, B r×c → k×c. */
function multiplyTransA(A: Float64Array, B: Float64Array, r: number, k: number, c: number): Float64Array {
  const C = new Float64Array(k * c);
  for (let i = 0; i < r; i++) {
    for (let p = 0; p < k; p++) {
      const aip = A[i * k + p]!;
      if (aip === 0) continue;
      const rowC = p * c;
      const rowB = i * c;
      for (let j = 0; j < c; j++) C[rowC + j]! += aip * B[rowB + j]!;
    }
  }
  return C;
}

/**
 * Orthonormalizes the columns of Y (rows×cols, cols ≤ rows) in place by modified Gram–Schmidt with
 * one re-orthogonalization pass ("twice is enough", Giraud et al. 2005). A column that vanishes
 * (Y rank-deficient, e.g. a gradient of rank < k + p) is replaced by a fresh Gaussian column so Q
 * stays orthonormal; those directions then carry zero singular values in B.
 */
function orthonormalColumns(Y: Float64Array, rows: number, cols: number, fallback: { key: NoiseKey; offset: number }): Float64Array {
  const column = new Float64Array(rows);
  for (let j = 0; j < cols; j++) {
    for (let i = 0; i < rows; i++) column[i] = Y[i * cols + j]!;
    const original = Math.sqrt(dot(column, column));
    let norm = orthogonalizeAgainst(Y, column, rows, cols, j);
    if (!(norm > 1e-10 * original) || norm === 0) {
      // numerically dependent column: substitute a deterministic random direction
      fillNoiseNormals(column, fallback.key, fallback.offset + j * rows);
      norm = orthogonalizeAgainst(Y, column, rows, cols, j);
    }
    for (let i = 0; i < rows; i++) Y[i * cols + j] = column[i]! / norm;
  }
  return Y;
}

function orthogonalizeAgainst(Y: Float64Array, column: Float64Array, rows: number, cols: number, upTo: number): number {
  for (let pass = 0; pass < 2; pass++) {
    for (let p = 0; p < upTo; p++) {
      let projection = 0;
      for (let i = 0; i < rows; i++) projection += Y[i * cols + p]! * column[i]!;
      for (let i = 0; i < rows; i++) column[i]! -= projection * Y[i * cols + p]!;
    }
  }
  return Math.sqrt(dot(column, column));
}

function dot(x: Float64Array, y: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! * y[i]!;
  return sum;
}
