/**
 * The tensor-train format (Oseledets 2011, SIAM J. Sci. Comput. 33(5), eq. 1.2):
 *   X[i_1, …, i_d] = G_1[:, i_1, :] · G_2[:, i_2, :] ⋯ G_d[:, i_d, :],
 * cores G_k ∈ ℝ^{r_{k−1} × n_k × r_k} stored row-major, boundary ranks r_0 = r_d = 1.
 * A TTTensor is a plain value; every operation returns a new one.
 */
import { ConfigError, ShapeError } from '../errors.ts';
import { assertModes, type DenseTensor, matmulRaw } from './dense.ts';

/** One 3-way core [r_{k−1}, n_k, r_k], row-major. */
export interface Core3 {
  readonly shape: readonly [leftRank: number, mode: number, rightRank: number];
  readonly data: Float64Array;
}

export interface TTTensor {
  /** [n_1, …, n_d] */
  readonly shape: readonly number[];
  /** [r_0 = 1, r_1, …, r_{d−1}, r_d = 1] */
  readonly ranks: readonly number[];
  readonly cores: readonly Core3[];
}

/** Builds a TTTensor from cores, checking that neighbouring ranks chain and the boundary ranks are 1. */
export function ttTensor(cores: readonly Core3[], name = 'tt'): TTTensor {
  if (cores.length === 0) throw new ShapeError(`${name}: a tensor train needs at least one core`);
  const ranks: number[] = [];
  cores.forEach((core, k) => {
    const [left, mode, right] = core.shape;
    assertModes([left, mode, right], `${name}.cores[${k}].shape`);
    if (core.data.length !== left * mode * right) {
      throw new ShapeError(`${name}.cores[${k}]: ${core.data.length} values do not fill shape [${left}, ${mode}, ${right}]`);
    }
    if (k === 0) ranks.push(left);
    else if (left !== ranks[k]) {
      throw new ShapeError(`${name}.cores[${k}] has left rank ${left} but cores[${k - 1}] has right rank ${ranks[k]}`);
    }
    ranks.push(right);
  });
  if (ranks[0] !== 1 || ranks[ranks.length - 1] !== 1) {
    throw new ShapeError(`${name}: boundary TT ranks must be 1, got r_0 = ${ranks[0]} and r_d = ${ranks[ranks.length - 1]}`);
  }
  return { shape: cores.map((core) => core.shape[1]), ranks, cores };
}

/**
 * Checks a rank list for a d-way train: either one positive integer for every inner rank or d+1
 * ranks with both ends 1 (TensorLy's convention). Returns the d+1 ranks.
 */
export function resolveRanks(rank: number | readonly number[], d: number, name: string): number[] {
  const ranks = typeof rank === 'number' ? [1, ...new Array<number>(Math.max(d - 1, 0)).fill(rank), 1] : [...rank];
  const shown = typeof rank === 'number' ? String(rank) : `[${rank.join(', ')}]`;
  if (ranks.length !== d + 1) {
    throw new ConfigError(`${name}: a ${d}-core tensor train needs ${d + 1} TT ranks (r_0..r_d), got ${ranks.length}: ${shown}`);
  }
  if (ranks.some((r) => !Number.isInteger(r) || r < 1)) throw new ConfigError(`${name}: TT ranks must be positive integers, got ${shown}`);
  if (ranks[0] !== 1 || ranks[d] !== 1) throw new ConfigError(`${name}: boundary TT ranks r_0 and r_d must be 1, got ${shown}`);
  return ranks;
}

/** Number of stored values Σ_k r_{k−1} n_k r_k (TensorLy `_tt_n_param`). */
export function ttParamCount(shape: readonly number[], ranks: readonly number[]): number {
  let count = 0;
  shape.forEach((n, k) => (count += ranks[k]! * n * ranks[k + 1]!));
  return count;
}

/**
 * The dense tensor (spec §2.1): left-to-right, T ← reshape(T · reshape(G_{k+1}, r_k, n_{k+1} r_{k+1})),
 * cost Σ_k (∏_{l≤k+1} n_l) r_k r_{k+1}. Exact up to float64 rounding.
 */
export function ttToFull(tt: TTTensor): DenseTensor {
  let current: Float64Array = tt.cores[0]!.data; // [n_1, r_1]
  let rows = tt.shape[0]!;
  let rank = tt.ranks[1]!;
  for (let k = 1; k < tt.cores.length; k++) {
    const [, mode, right] = tt.cores[k]!.shape;
    current = matmulRaw(current, tt.cores[k]!.data, rows, rank, mode * right);
    rows *= mode;
    rank = right;
  }
  return { shape: [...tt.shape], data: current };
}

export function assertSameShape(a: TTTensor, b: TTTensor, op: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((n, k) => n !== b.shape[k])) {
    throw new ShapeError(`${op}: TT shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
  }
}
