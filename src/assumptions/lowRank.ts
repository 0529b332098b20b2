/**
 * Low-rank gradients — the premise of GaLore (arXiv 2403.03507 §3) and LOZO (arXiv 2410.07698):
 * a weight's gradient G (m×n) keeps most of its energy in a few singular directions, and that
 * subspace drifts slowly, so a projector refreshed every T steps still captures it.
 */
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { ShapeError } from '../errors.ts';

export interface MatrixView {
  rows: number;
  cols: number;
  /** row-major values. */
  values: ArrayLike<number>;
}

function toMatrix(view: MatrixView): Matrix {
  if (view.values.length !== view.rows * view.cols) {
    throw new ShapeError(`matrix of ${view.rows}×${view.cols} needs ${view.rows * view.cols} values, got ${view.values.length}`);
  }
  const matrix = new Matrix(view.rows, view.cols);
  for (let i = 0; i < view.rows; i++) for (let j = 0; j < view.cols; j++) matrix.set(i, j, view.values[i * view.cols + j]!);
  return matrix;
}

/** Singular values, largest first (ml-matrix's one-sided Jacobi-free Golub–Kahan SVD in float64). */
export function singularValues(view: MatrixView): number[] {
  return [...new SingularValueDecomposition(toMatrix(view), { computeLeftSingularVectors: false, computeRightSingularVectors: false, autoTranspose: true }).diagonal].sort((a, b) => b - a);
}

/** ‖G‖_F² / ‖G‖₂²: a continuous, noise-robust stand-in for rank (1 ≤ stable rank ≤ rank). */
export function stableRank(sigmas: readonly number[]): number {
  const top = sigmas[0] ?? 0;
  if (top === 0) return 0;
  return sigmas.reduce((s, x) => s + x * x, 0) / (top * top);
}

/** Number of singular values above tolerance·σ₁ (default: float64 rank tolerance scaled by size). */
export function numericalRank(sigmas: readonly number[], tolerance = 1e-10): number {
  const top = sigmas[0] ?? 0;
  return sigmas.filter((s) => s > tolerance * top).length;
}

/** Σ_{i≤r} σᵢ² / Σ σᵢ²: the most any rank-r projector can capture (Eckart–Young). */
export function bestRankEnergy(sigmas: readonly number[], rank: number): number {
  const total = sigmas.reduce((s, x) => s + x * x, 0);
  if (total === 0) return 1;
  return sigmas.slice(0, rank).reduce((s, x) => s + x * x, 0) / total;
}

/** Top-r left singular vectors of G as an m×r matrix (orthonormal columns). */
export function leftSubspace(view: MatrixView, rank: number): Matrix {
  const svd = new SingularValueDecomposition(toMatrix(view), { computeRightSingularVectors: false, autoTranspose: true });
  const order = svd.diagonal.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]).slice(0, rank).map(([, i]) => i);
  return svd.leftSingularVectors.subMatrixColumn(order);
}

/** ‖PᵀG‖_F² / ‖G‖_F² for an orthonormal basis P (m×r): the gradient energy a left projector keeps. */
export function capturedEnergy(view: MatrixView, basis: Matrix): number {
  const g = toMatrix(view);
  const total = g.norm('frobenius') ** 2;
  if (total === 0) return 1;
  return basis.transpose().mmul(g).norm('frobenius') ** 2 / total;
}

/**
 * Overlap of two r-dimensional subspaces, ‖P₁ᵀP₂‖_F²/r ∈ [0, 1]: 1 for the same subspace, r/m in
 * expectation for independent random ones (the mean squared cosine of the principal angles).
 */
export function subspaceOverlap(first: Matrix, second: Matrix): number {
  if (first.rows !== second.rows) throw new ShapeError(`subspaceOverlap: bases have ${first.rows} and ${second.rows} rows`);
  const rank = Math.min(first.columns, second.columns);
  return first.transpose().mmul(second).norm('frobenius') ** 2 / rank;
}

export interface GradientRankReport {
  rows: number;
  cols: number;
  singularValues: number[];
  stableRank: number;
  /** best energy fraction at each requested rank. */
  energyAtRank: Record<number, number>;
}

export function gradientRankReport(view: MatrixView, ranks: readonly number[] = [1, 2, 4, 8, 16]): GradientRankReport {
  const sigmas = singularValues(view);
  const energyAtRank: Record<number, number> = {};
  for (const rank of ranks) energyAtRank[rank] = bestRankEnergy(sigmas, rank);
  return { rows: view.rows, cols: view.cols, singularValues: sigmas, stableRank: stableRank(sigmas), energyAtRank };
}
