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
 *   iteration) + Alg. 5.1 (direct SVD of the small B = QᵀA, here through the QR of B's rows so
 *   the dense SVD is (k+p)×(k+p)), with the Gaussian test matrix drawn from zolo's counter RNG so
 *   a refresh is reproducible from its noise stream (seed, parameter, purpose
 *   galore.randomizedSvd). Error (their Thm 10.6 / Cor. 10.10):
 *   E‖A − QQᵀA‖ ≤ [1 + 4√(k+p)/(p−1)·√min(m,n)]^{1/(2q+1)} σ_{k+1}; exact (to rounding) whenever
 *   rank(A) ≤ k + p. Its products with A are `MatrixProducts`: the projector runs them on the
 *   backend in float32 (the O(mn(k+p)) part), the orthogonalizations and the small SVD stay here.
 *
 * Matrices are dense row-major Float64Arrays. Singular vectors are unique only up to sign (and
 * rotation within equal singular values), so callers compare subspaces (galore.md §6.11).
 */
import { Matrix, SVD } from 'ml-matrix';
import { fillNoiseNormals, type NoiseKey } from '../kernels/noiseStreams.ts';
import { matmulRaw, transpose64 } from '../tensortrain/dense.ts';

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

/**
 * The two products the range finder takes of A (m×n), for X row-major with `cols` columns:
 * A·X (X n×cols → m×cols) and Aᵀ·X (X m×cols → n×cols). The projector computes them on the
 * backend, where the gradient already is (float32 products, as the paper's torch.linalg.svd of
 * the fp32 gradient); `hostProducts` computes them in float64.
 */
export interface MatrixProducts {
  times(x: Float64Array, cols: number): Promise<Float64Array>;
  transposeTimes(x: Float64Array, cols: number): Promise<Float64Array>;
}

/** A·X and Aᵀ·X on the host, in float64, for a dense row-major A. */
export function hostProducts(a: ArrayLike<number>, m: number, n: number): MatrixProducts {
  const A = Float64Array.from(a as ArrayLike<number>);
  return {
    times: async (x, cols) => matmulRaw(A, x, m, n, cols),
    transposeTimes: async (x, cols) => multiplyTransA(A, x, m, n, cols),
  };
}

/**
 * Randomized top-k SVD (Halko et al. 2011, Alg. 4.4 + 5.1) of the m×n matrix `a` (host values) or
 * of the matrix behind `products`. Same contract as exactTopSvd.
 */
export async function randomizedTopSvd(
  a: ArrayLike<number> | MatrixProducts, m: number, n: number, k: number, want: Want, options: RandomizedOptions,
): Promise<TopSingular> {
  const products = 'times' in a ? a : hostProducts(a, m, n);
  const rank = Math.min(k, m, n);
  const samples = Math.min(rank + options.oversampling, m, n);
  const omega = new Float64Array(n * samples);
  fillNoiseNormals(omega, options.key);
  // fallback columns are drawn past Ω's n·samples elements of the same stream
  const fallback = { key: options.key, offset: n * samples };
  let Q = orthonormalColumns(await products.times(omega, samples), m, samples, fallback);
  for (let iteration = 0; iteration < options.powerIterations; iteration++) {
    const Z = orthonormalColumns(await products.transposeTimes(Q, samples), n, samples, fallback);
    Q = orthonormalColumns(await products.times(Z, samples), m, samples, fallback);
  }
  // B = QᵀA = (AᵀQ)ᵀ (samples×n), factored through the QR of its rows, B = Rᵀ Q₂ᵀ (Rᵀ samples×samples),
  // so that only the small Rᵀ = Ũ Σ Ṽᵀ goes through the dense SVD (the SVD of the wide B itself was
  // most of a refresh): A ≈ (QŨ) Σ (Ṽᵀ Q₂ᵀ).
  const B = transpose64({ rows: n, cols: samples, data: await products.transposeTimes(Q, samples) }).data;
  const R = gramSchmidt(B, samples, n, { key: options.key, offset: fallback.offset + samples * Math.max(m, n) });
  const small = exactTopSvd(transpose64({ rows: samples, cols: samples, data: R }).data, samples, samples, rank, want);
  return {
    left: want.left ? matmulRaw(Q, small.left!, m, samples, rank) : null,
    values: small.values,
    rightT: want.right ? matmulRaw(small.rightT!, B, rank, samples, n) : null,
  };
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
 * Orthonormalizes the columns of Y (rows×cols, cols ≤ rows) in place (see gramSchmidt), on a
 * column-major copy so that every pass reads memory in order.
 */
function orthonormalColumns(Y: Float64Array, rows: number, cols: number, fallback: Fallback): Float64Array {
  const columns = transpose64({ rows, cols, data: Y }).data;
  gramSchmidt(columns, cols, rows, fallback);
  Y.set(transpose64({ rows: cols, cols: rows, data: columns }).data);
  return Y;
}

interface Fallback {
  key: NoiseKey;
  offset: number;
}

/**
 * QR of `count` vectors of length `length`, stored one after another in `vectors`, by modified
 * Gram–Schmidt with one re-orthogonalization pass ("twice is enough", Giraud et al. 2005): the
 * vectors become orthonormal q_j in place, and the returned R (count×count, upper triangular,
 * row-major) gives each original vector as Σ_{p≤j} R[p][j]·q_p. A vector that vanishes (the set
 * rank-deficient, e.g. a gradient of rank < k + p) is replaced by a fresh Gaussian direction so the
 * q stay orthonormal, with R[j][j] = 0: those directions carry zero singular values.
 */
function gramSchmidt(vectors: Float64Array, count: number, length: number, fallback: Fallback): Float64Array {
  const R = new Float64Array(count * count);
  for (let j = 0; j < count; j++) {
    const v = vectors.subarray(j * length, (j + 1) * length);
    const original = Math.sqrt(dot(v, v));
    let norm = orthogonalizeAgainst(vectors, v, length, j, R, count);
    if (!(norm > 1e-10 * original) || norm === 0) {
      // numerically dependent vector: substitute a deterministic random direction
      fillNoiseNormals(v, fallback.key, fallback.offset + j * length);
      norm = orthogonalizeAgainst(vectors, v, length, j, null, count);
      R[j * count + j] = 0;
    } else {
      R[j * count + j] = norm;
    }
    for (let i = 0; i < length; i++) v[i]! /= norm;
  }
  return R;
}

/** v ← v − Σ_{p<upTo} (q_p·v) q_p, twice; adds the coefficients to R's column `upTo` when given. Returns ‖v‖. */
function orthogonalizeAgainst(vectors: Float64Array, v: Float64Array, length: number, upTo: number, R: Float64Array | null, count: number): number {
  for (let pass = 0; pass < 2; pass++) {
    for (let p = 0; p < upTo; p++) {
      const q = vectors.subarray(p * length, (p + 1) * length);
      const projection = dot(q, v);
      for (let i = 0; i < length; i++) v[i]! -= projection * q[i]!;
      if (R) R[p * count + upTo]! += projection;
    }
  }
  return Math.sqrt(dot(v, v));
}

function dot(x: Float64Array, y: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i]! * y[i]!;
  return sum;
}
