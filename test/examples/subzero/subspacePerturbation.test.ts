/**
 * The SubZero plug-in (examples/subzero) against its mathematics, through what it registers: the
 * `subzero` perturbation and preset. For fixed bases U [m, r], V [n, r] with orthonormal columns and
 * Σ [r, r] i.i.d. N(0, 1), Z = s·U Σ Vᵀ (s = √(mn)/r) has E[Z] = 0 and
 *   Cov(Z_ij, Z_kl) = s²·(U Uᵀ)_ik·(V Vᵀ)_jl,   i.e. Cov(vec Z) = s²·(V⊗U)(V⊗U)ᵀ,
 * s² times the orthogonal projector onto the subspace, so the central-difference estimate on a
 * quadratic (exact: c = ⟨G, Z⟩) has E[c·Z] = s²·U Uᵀ G V Vᵀ. Sample means are compared with these
 * targets within 5 standard errors estimated from the same sample; seeds are fixed.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import '../../../examples/subzero/index.js';
import {
  ConfigError, createEstimator, gaussianDirection, getPart, type Estimator, type EstimatorState, type Param, type ParamStore, type Tensor,
} from '../../../src/index.ts';
import { diagonalQuadratic, fixtureValues, makeStore, type ParamSpec, UNIT_ROUNDOFF } from '../../zo/quadratic.ts';

/** The plug-in's perturbation state, as its JSDoc declares it. */
interface SubspaceState {
  window: number;
  bases: ReadonlyMap<number, { rows: number; cols: number; U: Tensor; V: Tensor }>;
}

const part = getPart('perturbation', 'subzero');

function setUp(specs: readonly ParamSpec[], options: Record<string, number>, runSeed = 5): { store: ParamStore; estimator: Estimator; state: EstimatorState } {
  const store = makeStore(specs);
  const estimator = createEstimator('subzero', options);
  return { store, estimator, state: estimator.init(store, { seed: runSeed }) };
}

function basesAt(state: EstimatorState, perturbation: unknown, step: number): SubspaceState {
  return part.beginStep(state.contexts.perturbation, perturbation, step) as SubspaceState;
}

/** Z(seed) of `param` as float64 (the direction applied to a zero buffer with scale 1). */
async function directionOf(state: EstimatorState, perturbation: unknown, param: Param, seed: number): Promise<Float64Array> {
  const buffer = state.store.engine.zeros(param.tensor.shape, 'workspace');
  (await part.direction(state.contexts.perturbation, perturbation, seed)).addTo(param, buffer, 1);
  const values = Float64Array.from(buffer.readSync());
  buffer.dispose();
  return values;
}

/** (A Aᵀ) of a row-major [rows, rank] matrix, float64. */
function gram(a: Float32Array, rows: number, rank: number): Float64Array {
  const out = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) for (let k = 0; k < rows; k++) for (let c = 0; c < rank; c++) out[i * rows + k]! += a[i * rank + c]! * a[k * rank + c]!;
  return out;
}

function meanAndStandardError(samples: readonly number[]): { mean: number; standardError: number } {
  const n = samples.length;
  const mean = samples.reduce((sum, x) => sum + x, 0) / n;
  const variance = samples.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (n - 1);
  return { mean, standardError: Math.sqrt(variance / n) };
}

describe('SubZero bases', () => {
  // Each entry of QᵀQ − I of the float32 bases is within 2u (u = 2⁻²⁴) plus float64 terms of order
  // rows·2⁻⁵³ (examples/subzero/orthonormalColumns.js); 2.01u bounds both for these sizes.
  test.prop([fc.integer({ min: 3, max: 40 }), fc.integer({ min: 3, max: 40 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })], { seed: 31, numRuns: 25 })(
    'U and V have orthonormal columns to float32 rounding, for every matrix (3-D tensors as [size(0), rest])',
    async (rows, cols, rank, runSeed) => {
      const { state } = setUp([
        { name: 'w', shape: [rows, cols], values: fixtureValues(rows * cols, 1) },
        { name: 'conv', shape: [rows, 3, 1], values: fixtureValues(rows * 3, 2) },
        { name: 'b', shape: [cols], values: fixtureValues(cols, 3) },
      ], { rank, interval: 10 }, runSeed);
      const perturbation = basesAt(state, state.perturbation, 0);
      expect([...perturbation.bases.keys()]).toEqual([0, 1]);
      for (const { rows: m, cols: n, U, V } of perturbation.bases.values()) {
        for (const [basis, dim] of [[U.readSync(), m], [V.readSync(), n]] as const) {
          const inner = new Float64Array(rank * rank);
          for (let a = 0; a < rank; a++) for (let b = 0; b < rank; b++) for (let i = 0; i < dim; i++) inner[a * rank + b]! += basis[i * rank + a]! * basis[i * rank + b]!;
          for (let a = 0; a < rank; a++) for (let b = 0; b < rank; b++) {
            expect(Math.abs(inner[a * rank + b]! - (a === b ? 1 : 0))).toBeLessThanOrEqual(2.01 * UNIT_ROUNDOFF);
          }
        }
      }
      part.dispose(perturbation);
    },
  );

  it('are redrawn exactly when t mod T = 0, and are a pure function of (run seed, ⌊t/T⌋)', async () => {
    const interval = 3;
    const { state } = setUp([{ name: 'w', shape: [6, 5], values: fixtureValues(30, 4) }], { rank: 2, interval });
    let perturbation = state.perturbation;
    let previous: Float32Array | null = null;
    for (let step = 0; step < 4 * interval; step++) {
      perturbation = part.beginStep(state.contexts.perturbation, perturbation, step);
      const U = (perturbation as SubspaceState).bases.get(0)!.U.readSync().slice();
      const redrawn = previous === null || U.some((x, i) => x !== previous![i]);
      expect(redrawn, `step ${step}`).toBe(step % interval === 0);
      previous = U;
      // a state fresh from init (a resumed run) rebuilds the same bases at this step
      const fresh = basesAt(state, part.init(state.contexts.perturbation), step).bases.get(0)!;
      expect(fresh.U.readSync()).toEqual(U);
      expect(fresh.V.readSync()).toEqual((perturbation as SubspaceState).bases.get(0)!.V.readSync());
      fresh.U.dispose();
      fresh.V.dispose();
    }
    part.dispose(perturbation);
  });

  it('a rank above min(rows, cols) of a matrix is a ConfigError naming the parameter', () => {
    expect(() => setUp([{ name: 'head', shape: [2, 16], values: fixtureValues(32, 5) }], { rank: 3 })).toThrow(ConfigError);
    expect(() => setUp([{ name: 'head', shape: [2, 16], values: fixtureValues(32, 5) }], { rank: 3 })).toThrow(
      /estimator\.rank must be ≤ min\(rows, cols\) = 2 of parameter "head" \[2, 16\], got 3/,
    );
  });
});

describe('SubZero directions for fixed bases', () => {
  const ROWS = 4;
  const COLS = 3;
  const RANK = 2;
  const SAMPLES = 4000;
  const specs: ParamSpec[] = [
    { name: 'w', shape: [ROWS, COLS], values: fixtureValues(ROWS * COLS, 6) },
    { name: 'b', shape: [COLS], values: fixtureValues(COLS, 7) },
  ];

  it('E[Z] = 0 and Cov(vec Z) = s²·(V⊗U)(V⊗U)ᵀ, the subspace projector scaled by s² = mn/r²', async () => {
    const { state } = setUp(specs, { rank: RANK, interval: 1_000_000 });
    const perturbation = basesAt(state, state.perturbation, 0);
    const { U, V } = perturbation.bases.get(0)!;
    const uut = gram(U.readSync(), ROWS, RANK);
    const vvt = gram(V.readSync(), COLS, RANK);
    const s2 = (ROWS * COLS) / RANK ** 2;
    const w = state.contexts.perturbation.params[0]!;
    const samples: Float64Array[] = [];
    for (let seed = 1; seed <= SAMPLES; seed++) samples.push(await directionOf(state, perturbation, w, seed));
    const size = ROWS * COLS;
    for (let a = 0; a < size; a++) {
      const { mean, standardError } = meanAndStandardError(samples.map((z) => z[a]!));
      expect(Math.abs(mean)).toBeLessThanOrEqual(5 * standardError);
      for (let b = a; b < size; b++) {
        const [i, j, k, l] = [Math.floor(a / COLS), a % COLS, Math.floor(b / COLS), b % COLS];
        const target = s2 * uut[i * ROWS + k]! * vvt[j * COLS + l]!;
        // E[Z_a Z_b] = Cov(Z_a, Z_b) since E[Z] = 0
        const product = meanAndStandardError(samples.map((z) => z[a]! * z[b]!));
        expect(Math.abs(product.mean - target), `entry (${a}, ${b})`).toBeLessThanOrEqual(5 * product.standardError);
      }
    }
    part.dispose(perturbation);
  });

  it('1-D tensors get exactly MeZO\'s Gaussian z of the same seed', async () => {
    const { state } = setUp(specs, { rank: RANK });
    const perturbation = basesAt(state, state.perturbation, 0);
    const bias = state.contexts.perturbation.params[1]!;
    for (const seed of [1, 99, 123456]) {
      const reference = state.store.engine.zeros(bias.tensor.shape, 'workspace');
      gaussianDirection(seed).addTo(bias, reference, 1);
      expect(await directionOf(state, perturbation, bias, seed)).toEqual(Float64Array.from(reference.readSync()));
      reference.dispose();
    }
    part.dispose(perturbation);
  });

  it('on a quadratic, the estimate c·Z has expectation s²·U Uᵀ G V Vᵀ (the projected gradient)', async () => {
    const curvature = fixtureValues(ROWS * COLS + COLS, 8).map((x) => 1.5 + x);
    const problem = diagonalQuadratic(curvature, fixtureValues(ROWS * COLS + COLS, 9));
    // lr = 0 keeps θ at its start (to rounding), so every step estimates the same gradient G
    const { state: initial, estimator } = setUp(specs, { rank: RANK, interval: 1_000_000, lr: 0, eps: 1e-3 });
    const w = initial.contexts.perturbation.params[0]!;
    const theta = Float64Array.from([...w.tensor.readSync(), ...initial.contexts.perturbation.params[1]!.tensor.readSync()]);
    const G = problem.gradient(theta).subarray(0, ROWS * COLS);
    const estimates: Float64Array[] = [];
    let state = initial;
    for (let t = 0; t < SAMPLES; t++) {
      const { state: next, record } = await estimator.step(state, { loss: problem.loss });
      const z = await directionOf(next, next.perturbation, w, record.seeds[0]!);
      estimates.push(z.map((x) => record.projectedGradients[0]! * x));
      state = next;
    }
    const { U, V } = (state.perturbation as SubspaceState).bases.get(0)!;
    const uut = gram(U.readSync(), ROWS, RANK);
    const vvt = gram(V.readSync(), COLS, RANK);
    const s2 = (ROWS * COLS) / RANK ** 2;
    for (let i = 0; i < ROWS; i++) for (let j = 0; j < COLS; j++) {
      let projected = 0;
      for (let k = 0; k < ROWS; k++) for (let l = 0; l < COLS; l++) projected += uut[i * ROWS + k]! * G[k * COLS + l]! * vvt[l * COLS + j]!;
      const { mean, standardError } = meanAndStandardError(estimates.map((g) => g[i * COLS + j]!));
      expect(Math.abs(mean - s2 * projected), `entry (${i}, ${j})`).toBeLessThanOrEqual(5 * standardError);
    }
    estimator.dispose(state);
  });
});
