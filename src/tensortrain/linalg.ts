/**
 * Small dense SVD and QR for the TT algebra (host side, float64, off the training hot path).
 *
 * Library choice: ml-matrix 6 (already a dependency). It ships both a Golub–Kahan SVD and a
 * Householder QR (JAMA ports) in float64; mathjs has QR but no SVD, and pulling a second
 * linear-algebra package for one routine is not worth it. Two JAMA limitations are handled here:
 * its SVD is only correct for rows ≥ cols unless `autoTranspose` is set (always set below), and its
 * QR assumes rows ≥ cols (wide inputs fall back to the SVD, Q = U, R = Σ·Vᵀ).
 *
 * Contracts (both exact up to float64 rounding, ~1e−15·‖A‖): a = u·diag(s)·vt with k = min(rows,
 * cols), s sorted non-increasing and ≥ 0, u and vtᵀ with orthonormal columns; a = q·r with q
 * orthonormal columns.
 */
import { Matrix, QrDecomposition, SingularValueDecomposition } from 'ml-matrix';
import type { Matrix64 } from './dense.ts';

export interface ThinSvd {
  /** [rows, k] */
  readonly u: Matrix64;
  /** k singular values, non-increasing. */
  readonly s: Float64Array;
  /** [k, cols] */
  readonly vt: Matrix64;
}

export interface ThinQr {
  /** [rows, k], orthonormal columns. */
  readonly q: Matrix64;
  /** [k, cols] */
  readonly r: Matrix64;
}

function toMl(a: Matrix64): Matrix {
  const m = new Matrix(a.rows, a.cols);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) m.set(i, j, a.data[i * a.cols + j]!);
  return m;
}

/** Copies the first `cols` columns of an ml-matrix, optionally transposed. */
function fromMl(m: Matrix, cols: number, transposed = false): Matrix64 {
  const rows = m.rows;
  const data = new Float64Array(rows * cols);
  if (transposed) {
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[j * rows + i] = m.get(i, j);
    return { rows: cols, cols: rows, data };
  }
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) data[i * cols + j] = m.get(i, j);
  return { rows, cols, data };
}

export function thinSvd(a: Matrix64): ThinSvd {
  const k = Math.min(a.rows, a.cols);
  const svd = new SingularValueDecomposition(toMl(a), { autoTranspose: true });
  const s = Float64Array.from(svd.diagonal.slice(0, k), (value) => Math.max(value, 0));
  return { u: fromMl(svd.leftSingularVectors, k), s, vt: fromMl(svd.rightSingularVectors, k, true) };
}

export function thinQr(a: Matrix64): ThinQr {
  if (a.rows < a.cols) {
    const { u, s, vt } = thinSvd(a);
    const r = new Float64Array(vt.data.length);
    for (let i = 0; i < vt.rows; i++) for (let j = 0; j < vt.cols; j++) r[i * vt.cols + j] = s[i]! * vt.data[i * vt.cols + j]!;
    return { q: u, r: { rows: vt.rows, cols: vt.cols, data: r } };
  }
  const qr = new QrDecomposition(toMl(a));
  return { q: fromMl(qr.orthogonalMatrix, a.cols), r: fromMl(qr.upperTriangularMatrix, a.cols) };
}

/**
 * Smallest rank r ≥ 1 whose discarded tail √(Σ_{i>r} σ_i²) is ≤ δ (Oseledets 2011, Alg. 1 step c),
 * then capped at `cap`.
 */
export function truncationRank(s: Float64Array, delta: number, cap: number): number {
  const tail = new Float64Array(s.length + 1); // tail[r] = Σ_{i≥r} σ_i² (0-based)
  for (let i = s.length - 1; i >= 0; i--) tail[i] = tail[i + 1]! + s[i]! * s[i]!;
  let rank = s.length;
  const delta2 = delta * delta;
  for (let r = 1; r <= s.length; r++) {
    if (tail[r]! <= delta2) {
      rank = r;
      break;
    }
  }
  return Math.max(1, Math.min(rank, cap));
}
