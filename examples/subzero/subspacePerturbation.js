// @ts-check
/**
 * SubZero's layer-wise random-subspace perturbation (Yu et al., "Zeroth-Order Fine-Tuning of LLMs
 * in Random Subspaces", arXiv:2410.08989, §4; official code github.com/zimingyy/SubZero,
 * large_models/trainer.py). Every trainable tensor with ndim ≥ 2, viewed as W [m, n] (m = size(0),
 * n = the rest), is perturbed inside the subspace spanned by its own bases:
 *
 *   Z = s · U Σ Vᵀ,   U [m, r], V [n, r] with orthonormal columns, Σ [r, r] i.i.d. N(0, 1),  s = √(mn)/r
 *
 * - U and V are the Q factors of Gaussian matrices, drawn when step t starts a new window of T steps
 *   (t mod T = 0: the paper's lazy subspace update) and kept until the next one (category
 *   optimizerState, (m + n)·r floats per matrix). Their normals come from the noise streams
 *   subzero.u / subzero.v under a seed that is a pure function of (run seed, ⌊t/T⌋), so a resumed
 *   or replayed run rebuilds the same bases.
 * - Σ is fresh for every query: the stream subzero.core under the query seed, regenerated (an r×r
 *   workspace) whenever the direction is applied, so nothing per query is stored.
 * - s = √(mn)/r is the official code's normalisation (`math.sqrt(param.numel() / z.numel())`):
 *   E‖Z‖²_F = mn, the same as MeZO's Gaussian z on that tensor, so ε and learning rates carry over.
 *   The paper's Z = U Σ Vᵀ has s = 1; with s the expected estimate is s²·U Uᵀ G V Vᵀ, the gradient G
 *   projected onto the subspace (the paper's Theorem 1 up to the factor s²).
 * - Tensors with ndim < 2 (biases, layer norms) get MeZO's Gaussian z, as in the official code.
 *
 * Bad input: a rank r above min(m, n) of any matrix is a ConfigError naming the parameter.
 */
import {
  ConfigError, fillNoiseNormals, gaussianDirection, noiseKey, ops, option, positiveInteger, registerNoisePurpose, threefry2x32,
} from 'zolo';
import { orthonormalColumns } from './orthonormalColumns.js';

/** @typedef {import('zolo').Param} Param */
/** @typedef {import('zolo').Tensor} Tensor */
/** @typedef {import('zolo').PartContext} PartContext */
/** @typedef {{ rows: number, cols: number, U: Tensor, V: Tensor }} Bases  U [rows, r], V [cols, r] */
/** @typedef {{ window: number, bases: ReadonlyMap<number, Bases> }} SubspaceState  bases keyed by param.index */

const U_NOISE = registerNoisePurpose('subzero.u');
const V_NOISE = registerNoisePurpose('subzero.v');
const CORE_NOISE = registerNoisePurpose('subzero.core');

/** 'SUBZ': separates the window seeds from any other Threefry use keyed by the run seed. */
const WINDOW_KEY = 0x5355425a;

/** The seed of refresh window `window`: Threefry-2x32 of (window, 0) under key (run seed, WINDOW_KEY). */
function windowSeed(/** @type {number} */ runSeed, /** @type {number} */ window) {
  const out = new Uint32Array(2);
  threefry2x32(window >>> 0, 0, runSeed >>> 0, WINDOW_KEY, out);
  return out[0];
}

/** @param {Param} param */
function matrixShape(param) {
  const rows = param.tensor.shape[0];
  return { rows, cols: param.tensor.size / rows };
}

/**
 * Orthonormal [dim, rank] basis of window seed `seed` for `param`, on the device.
 * @param {PartContext} ctx
 * @param {Param} param
 * @param {number} dim
 * @param {number} seed
 * @param {import('zolo').NoisePurpose} purpose
 */
function drawBasis(ctx, param, dim, seed, purpose) {
  const rank = ctx.options.rank;
  const gaussian = new Float64Array(dim * rank);
  fillNoiseNormals(gaussian, noiseKey(seed, param.index, purpose));
  return ctx.engine.fromArray(orthonormalColumns(gaussian, dim, rank), [dim, rank], 'optimizerState');
}

/**
 * Z(seed) over all trainable tensors: s·U Σ Vᵀ on matrices, Gaussian z on the rest.
 * @param {PartContext} ctx
 * @param {SubspaceState} state
 * @param {number} seed
 * @returns {import('zolo').Direction}
 */
function subspaceDirection(ctx, state, seed) {
  const dense = gaussianDirection(seed);
  const { engine } = ctx;
  const rank = ctx.options.rank;
  return {
    seed,
    addTo(param, target, scale, decay = 1) {
      const bases = state.bases.get(param.index);
      if (!bases) return dense.addTo(param, target, scale, decay);
      const { rows, cols, U, V } = bases;
      if (decay !== 1) engine.backend.affine(target.buffer, target.buffer, decay, 0);
      const core = ops.randomNormal(engine, [rank, rank], noiseKey(seed, param.index, CORE_NOISE), 'workspace');
      const coreInRows = engine.zeros([rows, rank], 'workspace');
      // U Σ  ([m, r] · [r, r]), then target += scale·s·(U Σ) Vᵀ  ([m, r] · [n, r]ᵀ)
      engine.backend.matmul(U.buffer, core.buffer, coreInRows.buffer, { batch: 1, m: rows, n: rank, k: rank });
      engine.backend.matmul(coreInRows.buffer, V.buffer, target.buffer, {
        batch: 1, m: rows, n: cols, k: rank, transB: true, alpha: (scale * Math.sqrt(rows * cols)) / rank, accumulate: true,
      });
      core.dispose();
      coreInRows.dispose();
    },
  };
}

/** @param {SubspaceState} state */
function disposeBases(state) {
  for (const { U, V } of state.bases.values()) {
    U.dispose();
    V.dispose();
  }
}

/** @type {import('zolo').Perturbation<SubspaceState>} */
export const subspacePerturbation = {
  kind: 'perturbation',
  name: 'subzero',
  description: 'SubZero: Z = (√(mn)/r)·U Σ Vᵀ per matrix (orthonormal U, V redrawn every T steps, Σ r×r fresh per query); z for 1-D tensors',
  options: {
    rank: option(24, positiveInteger, 'r, rank of the subspace U Σ Vᵀ', 'official SubZero README, OPT-1.3B: --gauss_rank=24'),
    interval: option(1000, positiveInteger, 'T, steps between redraws of U and V', 'official SubZero README, OPT-1.3B: --update_interval=1000'),
  },
  init(ctx) {
    const rank = ctx.options.rank;
    for (const param of ctx.params.filter((p) => p.tensor.rank >= 2)) {
      const { rows, cols } = matrixShape(param);
      if (rank > Math.min(rows, cols)) {
        throw new ConfigError(`estimator.rank must be ≤ min(rows, cols) = ${Math.min(rows, cols)} of parameter "${param.name}" [${param.tensor.shape.join(', ')}], got ${rank}`);
      }
    }
    return { window: -1, bases: new Map() };
  },
  beginStep(ctx, state, step) {
    const window = Math.floor(step / ctx.options.interval);
    if (window === state.window) return state;
    disposeBases(state);
    const seed = windowSeed(ctx.runSeed, window);
    /** @type {Map<number, Bases>} */
    const bases = new Map();
    for (const param of ctx.params.filter((p) => p.tensor.rank >= 2)) {
      const { rows, cols } = matrixShape(param);
      bases.set(param.index, { rows, cols, U: drawBasis(ctx, param, rows, seed, U_NOISE), V: drawBasis(ctx, param, cols, seed, V_NOISE) });
    }
    return { window, bases };
  },
  direction: async (ctx, state, seed) => subspaceDirection(ctx, state, seed),
  endStep: (state) => state,
  dispose: disposeBases,
};
