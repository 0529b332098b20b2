/**
 * TT-matrices (TT-operators; Oseledets 2011 §6, Novikov et al. 2015 arXiv:1509.06569 §3):
 *   W[i, j] = P_1[:, i_1, j_1, :] ⋯ P_d[:, i_d, j_d, :],
 * W ∈ ℝ^{M×N}, M = ∏ m_k, N = ∏ n_k, row index i ↔ (i_1..i_d), column j ↔ (j_1..j_d) row-major,
 * cores P_k ∈ ℝ^{r_{k−1}×m_k×n_k×r_k}. Distinct from AdaZeta's split layout (splitLayout.ts):
 * here every core carries one row and one column mode, and the matrix rank is not capped by r.
 */
import { ShapeError } from '../errors.ts';
import { type Matrix64, permuteDense, product } from './dense.ts';
import type { TruncationOptions } from './options.ts';
import { type TTTensor, ttParamCount, ttTensor, ttToFull } from './ttTensor.ts';
import { ttSvd } from './ttSvd.ts';

/** One 4-way core [r_{k−1}, m_k, n_k, r_k], row-major. */
export interface Core4 {
  readonly shape: readonly [leftRank: number, rowMode: number, colMode: number, rightRank: number];
  readonly data: Float64Array;
}

export interface TTMatrix {
  /** [m_1, …, m_d], ∏ = rows M */
  readonly rowModes: readonly number[];
  /** [n_1, …, n_d], ∏ = cols N */
  readonly colModes: readonly number[];
  /** [1, r_1, …, r_{d−1}, 1] */
  readonly ranks: readonly number[];
  readonly cores: readonly Core4[];
}

export function ttMatrix(cores: readonly Core4[], name = 'tt-matrix'): TTMatrix {
  // A TT-matrix is a TT over the merged modes (m_k n_k); reuse its chain checks.
  const merged = ttTensor(cores.map((core) => ({ shape: [core.shape[0], core.shape[1] * core.shape[2], core.shape[3]] as const, data: core.data })), name);
  return { rowModes: cores.map((c) => c.shape[1]), colModes: cores.map((c) => c.shape[2]), ranks: merged.ranks, cores };
}

/** Σ_k r_{k−1} m_k n_k r_k. */
export function ttMatrixParamCount(w: TTMatrix): number {
  return ttParamCount(w.rowModes.map((m, k) => m * w.colModes[k]!), w.ranks);
}

/** Checks a factorisation of a matrix's dimensions; both lists must have the same length d. */
export function assertMatrixModes(rows: number, cols: number, rowModes: readonly number[], colModes: readonly number[], name: string): void {
  const bad = (modes: readonly number[]) => modes.length === 0 || modes.some((n) => !Number.isInteger(n) || n < 1);
  if (bad(rowModes) || bad(colModes)) {
    throw new ShapeError(`${name}: row and column modes must be non-empty lists of positive integers, got [${rowModes.join(', ')}] and [${colModes.join(', ')}]`);
  }
  if (rowModes.length !== colModes.length) {
    throw new ShapeError(`${name}: row modes [${rowModes.join(', ')}] and column modes [${colModes.join(', ')}] need the same number of cores (pad with 1s)`);
  }
  if (product(rowModes) !== rows || product(colModes) !== cols) {
    throw new ShapeError(
      `${name}: modes [${rowModes.join('·')}] × [${colModes.join('·')}] = ${product(rowModes)}×${product(colModes)} do not factor the ${rows}×${cols} matrix`,
    );
  }
}

export interface TTMatrixOptions extends TruncationOptions {
  rowModes: readonly number[];
  colModes: readonly number[];
}

/**
 * Dense → TT-matrix: reshape W to (m_1..m_d, n_1..n_d), interleave to (m_1, n_1, …, m_d, n_d),
 * merge pairs to (m_k n_k) and run TT-SVD with the given ε / rank caps (same error contract).
 */
export function ttMatrixFromDense(w: Matrix64, options: TTMatrixOptions): TTMatrix {
  const { rowModes, colModes, ...truncation } = options;
  const name = truncation.name ?? 'ttMatrixFromDense';
  assertMatrixModes(w.rows, w.cols, rowModes, colModes, name);
  const d = rowModes.length;
  const interleave = Array.from({ length: 2 * d }, (_, axis) => (axis % 2 === 0 ? axis / 2 : d + (axis - 1) / 2));
  const permuted = permuteDense({ shape: [...rowModes, ...colModes], data: w.data }, interleave);
  const merged = ttSvd({ shape: rowModes.map((m, k) => m * colModes[k]!), data: permuted.data }, { ...truncation, name });
  return ttMatrix(
    merged.cores.map((core, k) => ({ shape: [core.shape[0], rowModes[k]!, colModes[k]!, core.shape[2]] as const, data: core.data })),
    name,
  );
}

/** The dense M×N matrix (reverse of ttMatrixFromDense). Exact up to float64 rounding. */
export function ttMatrixToDense(w: TTMatrix): Matrix64 {
  const d = w.rowModes.length;
  const merged: TTTensor = ttTensor(w.cores.map((core) => ({ shape: [core.shape[0], core.shape[1] * core.shape[2], core.shape[3]] as const, data: core.data })));
  const interleavedShape = w.rowModes.flatMap((m, k) => [m, w.colModes[k]!]);
  const deinterleave = [...Array.from({ length: d }, (_, k) => 2 * k), ...Array.from({ length: d }, (_, k) => 2 * k + 1)];
  const dense = permuteDense({ shape: interleavedShape, data: ttToFull(merged).data }, deinterleave);
  return { rows: product(w.rowModes), cols: product(w.colModes), data: dense.data };
}

export interface TTMatmulCost {
  /** multiply-adds of the right-to-left sweep: Σ_k B·(∏_{l<k} n_l)(∏_{l>k} m_l)·m_k n_k r_{k−1} r_k */
  rightToLeft: number;
  /** multiply-adds of the left-to-right sweep: Σ_k B·(∏_{l<k} m_l)(∏_{l>k} n_l)·m_k n_k r_{k−1} r_k */
  leftToRight: number;
  /** the dense product B·M·N, for comparison */
  dense: number;
  /** the sweep ttMatrixTimesBatch will use */
  order: 'rightToLeft' | 'leftToRight';
}

/**
 * Cost of Y = X·Wᵀ for a batch of B vectors without forming W. Each sweep contracts one core per
 * step; its step k costs (batch × the untouched modes on both sides) × m_k n_k r_{k−1} r_k, so the
 * order matters when the row and column modes differ (Novikov et al. 2015 give O(d r² m max(M,N))
 * per vector). The cheaper sweep is chosen.
 */
export function ttMatmulCost(w: TTMatrix, batch: number): TTMatmulCost {
  const { rowModes: m, colModes: n, ranks: r } = w;
  const d = m.length;
  let rightToLeft = 0;
  let leftToRight = 0;
  for (let k = 0; k < d; k++) {
    const coreCost = m[k]! * n[k]! * r[k]! * r[k + 1]!;
    rightToLeft += batch * product(n.slice(0, k)) * product(m.slice(k + 1)) * coreCost;
    leftToRight += batch * product(m.slice(0, k)) * product(n.slice(k + 1)) * coreCost;
  }
  return { rightToLeft, leftToRight, dense: batch * product(m) * product(n), order: rightToLeft <= leftToRight ? 'rightToLeft' : 'leftToRight' };
}

/**
 * y_b = W x_b for a batch X [B, N] → Y [B, M], contracting the cores one by one (spec §2.6; t3f
 * `tt_dense_matmul`) in the cheaper order of `ttMatmulCost`. Peak intermediate: B × (untouched
 * modes) × r values. Exact up to float64 rounding (checked against the dense product).
 */
export function ttMatrixTimesBatch(w: TTMatrix, x: Matrix64): Matrix64 {
  const rows = product(w.rowModes);
  const cols = product(w.colModes);
  if (x.cols !== cols) throw new ShapeError(`ttMatrixTimesBatch: input has ${x.cols} features per vector, the ${rows}×${cols} TT-matrix takes ${cols}`);
  const batch = x.rows;
  const data = ttMatmulCost(w, batch).order === 'rightToLeft' ? sweepRightToLeft(w, x.data, batch) : sweepLeftToRight(w, x.data, batch);
  return { rows: batch, cols: rows, data };
}

/** T viewed [P, n_k, Q, r_k] → [P, m_k, Q, r_{k−1}], P = B∏_{l<k} n_l, Q = ∏_{l>k} m_l. */
function sweepRightToLeft(w: TTMatrix, x: Float64Array, batch: number): Float64Array {
  const { rowModes: m, colModes: n } = w;
  let t = x;
  for (let k = m.length - 1; k >= 0; k--) {
    const [left, mk, nk, right] = w.cores[k]!.shape;
    const core = w.cores[k]!.data; // [a, i, j, b]
    const outer = batch * product(n.slice(0, k));
    const q = product(m.slice(k + 1));
    const next = new Float64Array(outer * mk * q * left);
    for (let p = 0; p < outer; p++) {
      const tBase = p * nk * q * right;
      const outBase = p * mk * q * left;
      for (let a = 0; a < left; a++) {
        for (let i = 0; i < mk; i++) {
          const coreBase = (a * mk + i) * nk * right;
          for (let qi = 0; qi < q; qi++) {
            let sum = 0;
            for (let j = 0; j < nk; j++) {
              const tRow = tBase + (j * q + qi) * right;
              const cRow = coreBase + j * right;
              for (let b = 0; b < right; b++) sum += core[cRow + b]! * t[tRow + b]!;
            }
            next[outBase + (i * q + qi) * left + a] = sum;
          }
        }
      }
    }
    t = next;
  }
  return t;
}

/** T viewed [P, r_{k−1}, n_k, Q] → [P, m_k, r_k, Q], P = B∏_{l<k} m_l, Q = ∏_{l>k} n_l. */
function sweepLeftToRight(w: TTMatrix, x: Float64Array, batch: number): Float64Array {
  const { rowModes: m, colModes: n } = w;
  let t = x;
  for (let k = 0; k < m.length; k++) {
    const [left, mk, nk, right] = w.cores[k]!.shape;
    const core = w.cores[k]!.data;
    const inner = left * nk;
    // Reorder the core to [i, b, (a, j)] so the contracted pair is contiguous.
    const reordered = new Float64Array(core.length);
    for (let a = 0; a < left; a++) {
      for (let i = 0; i < mk; i++) {
        for (let j = 0; j < nk; j++) {
          for (let b = 0; b < right; b++) reordered[(i * right + b) * inner + a * nk + j] = core[((a * mk + i) * nk + j) * right + b]!;
        }
      }
    }
    const outer = batch * product(m.slice(0, k));
    const q = product(n.slice(k + 1));
    const next = new Float64Array(outer * mk * right * q);
    for (let p = 0; p < outer; p++) {
      const tBase = p * inner * q;
      for (let ib = 0; ib < mk * right; ib++) {
        const outBase = (p * mk * right + ib) * q;
        const cBase = ib * inner;
        for (let aj = 0; aj < inner; aj++) {
          const c = reordered[cBase + aj]!;
          if (c === 0) continue;
          const tRow = tBase + aj * q;
          for (let qi = 0; qi < q; qi++) next[outBase + qi]! += c * t[tRow + qi]!;
        }
      }
    }
    t = next;
  }
  return t;
}

