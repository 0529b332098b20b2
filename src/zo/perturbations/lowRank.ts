/**
 * LOZO's low-rank perturbation (zo-estimators.md §3.1–3.2, §3.4). For every trainable tensor with
 * ndim ≥ 2, viewed as a matrix W [m, n] (m = size(0), n = the rest): Z = U Vᵀ with U [m, r] and
 * V [n, r] i.i.d. N(0, 1).
 *
 *   - U is regenerated from the query seed on every use (purpose zo.lowRank.u), as a transient
 *     workspace buffer of m·r floats, and applied by one matmul with alpha/accumulate.
 *   - V is drawn when step t starts a new ν-window (t mod ν = 0) from windowSeed(run seed, ⌊t/ν⌋)
 *     on purpose zo.lowRank.v, and kept (category optimizerState: n·r floats per matrix). Its seed does
 *     not touch the step-seed stream, so U and every later z are the same whether or not V was
 *     redrawn — the fix for the official code's refresh-step mismatch (§3.6).
 *   - ndim < 2 tensors get MeZO's Gaussian z.
 *
 * On a refresh step the previous window's V stays alive until `endStep` so LOZO-M can re-project
 * its momentum (§3.3); the ledger therefore peaks at 2·n·r per matrix on those steps.
 * Bad input: r > min(m, n) for any matrix is a ConfigError naming the parameter.
 */
import { ConfigError } from '../../errors.ts';
import { BuiltinNoisePurpose, noiseKey } from '../../kernels/noiseStreams.ts';
import { formatShape, ops, type Param, type Tensor } from '../../tensor/index.ts';
import { option, positiveInteger } from '../options.ts';
import { windowSeed } from '../seeds.ts';
import type { Direction, PartContext, Perturbation } from '../types.ts';
import { gaussianDirection } from './gaussian.ts';

export interface MatrixFactors {
  readonly rows: number;
  readonly cols: number;
  readonly rank: number;
  /** [cols, rank], current window. */
  readonly V: Tensor;
  /** the previous window's V on the step that redrew it (t > 0, t mod ν = 0), else null. */
  readonly previousV: Tensor | null;
}

export interface LowRankState {
  /** index of the current ν-window, −1 before the first step. */
  readonly window: number;
  /** whether V was redrawn at the current step. */
  readonly refreshed: boolean;
  /** keyed by param.index; only tensors with ndim ≥ 2. */
  readonly matrices: ReadonlyMap<number, MatrixFactors>;
}

export interface LowRankDirection extends Direction {
  readonly factors: (param: Param) => MatrixFactors | undefined;
  /** out [rows, rank] ← U of this direction for `param` (regenerated, bitwise the one addTo uses). */
  fillU(param: Param, out: Tensor): void;
}

export function isLowRankDirection(direction: Direction): direction is LowRankDirection {
  return 'fillU' in direction;
}

function matrixShape(param: Param): { rows: number; cols: number } {
  const rows = param.tensor.shape[0]!;
  return { rows, cols: param.tensor.size / rows };
}

function lowRankDirection(ctx: PartContext<'rank' | 'interval'>, state: LowRankState, seed: number): LowRankDirection {
  const dense = gaussianDirection(seed);
  const fillU = (param: Param, out: Tensor): void => {
    const key = noiseKey(seed, param.index, BuiltinNoisePurpose.lowRankU);
    ctx.engine.backend.fillNormal(out.buffer, key.k0, key.k1, 0);
  };
  return {
    seed,
    factors: (param) => state.matrices.get(param.index),
    fillU,
    addTo(param: Param, target: Tensor, scale: number, decay = 1): void {
      const factors = state.matrices.get(param.index);
      if (!factors) {
        dense.addTo(param, target, scale, decay);
        return;
      }
      const backend = ctx.engine.backend;
      if (decay !== 1) backend.affine(target.buffer, target.buffer, decay, 0);
      const U = ctx.engine.zeros([factors.rows, factors.rank], 'workspace');
      fillU(param, U);
      // target += scale · U Vᵀ   ([m, r] · [n, r]ᵀ)
      backend.matmul(U.buffer, factors.V.buffer, target.buffer, {
        batch: 1, m: factors.rows, n: factors.cols, k: factors.rank, transB: true, alpha: scale, accumulate: true,
      });
      U.dispose();
    },
  };
}

export const lowRank: Perturbation<LowRankState, 'rank' | 'interval'> = {
  kind: 'perturbation',
  name: 'lowRank',
  description: 'LOZO: Z = U Vᵀ per matrix (U fresh each step, V redrawn every ν steps and kept); z for 1-D tensors',
  lowRank: true,
  options: {
    rank: option(2, positiveInteger, 'r, rank of U Vᵀ', 'LOZO large_models/run_lozo.py default [C]'),
    interval: option(50, positiveInteger, 'ν, steps between redraws of V', 'LOZO large_models/run_lozo.py default [C]'),
  },
  init(ctx) {
    const rank = ctx.options.rank;
    for (const param of ctx.params) {
      if (param.tensor.rank < 2) continue;
      const { rows, cols } = matrixShape(param);
      if (rank > Math.min(rows, cols)) {
        throw new ConfigError(
          `estimator.rank must be ≤ min(rows, cols) = ${Math.min(rows, cols)} of parameter "${param.name}" ` +
            `${formatShape(param.tensor.shape)}, got ${rank}`,
        );
      }
    }
    return { window: -1, refreshed: false, matrices: new Map() };
  },
  beginStep(ctx, state, step) {
    const window = Math.floor(step / ctx.options.interval);
    if (window === state.window) return state.refreshed ? { ...state, refreshed: false } : state;
    const rank = ctx.options.rank;
    const drawV = (param: Param, cols: number, w: number): Tensor =>
      ops.randomNormal(ctx.engine, [cols, rank], noiseKey(windowSeed(ctx.runSeed, w), param.index, BuiltinNoisePurpose.lowRankV), 'optimizerState');
    // A state restored mid-run (window −1) on a redraw step regenerates the previous window's V,
    // so LOZO-M re-projects exactly as the uninterrupted run did.
    const atBoundary = window > 0 && step % ctx.options.interval === 0;
    const matrices = new Map<number, MatrixFactors>();
    for (const param of ctx.params) {
      if (param.tensor.rank < 2) continue;
      const { rows, cols } = matrixShape(param);
      const previous = state.matrices.get(param.index);
      previous?.previousV?.dispose();
      const previousV = previous?.V ?? (atBoundary ? drawV(param, cols, window - 1) : null);
      matrices.set(param.index, { rows, cols, rank, V: drawV(param, cols, window), previousV });
    }
    return { window, refreshed: true, matrices };
  },
  direction: async (ctx, state, seed) => lowRankDirection(ctx, state, seed),
  endStep(state) {
    if (![...state.matrices.values()].some((f) => f.previousV)) return state;
    const matrices = new Map<number, MatrixFactors>();
    for (const [index, factors] of state.matrices) {
      factors.previousV?.dispose();
      matrices.set(index, { ...factors, previousV: null });
    }
    return { ...state, matrices };
  },
  dispose(state) {
    for (const factors of state.matrices.values()) {
      factors.V.dispose();
      factors.previousV?.dispose();
    }
  },
};
