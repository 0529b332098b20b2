import { fc, test } from '@fast-check/vitest';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { Engine } from '../../src/tensor/index.ts';
import {
  type SyntheticTask,
  leastSquares,
  logisticRegression,
  quadraticTask,
  storeGradient,
  storeLoss,
  taskParamStore,
  teacherStudent,
  thetaFromStore,
} from '../../src/data/synthetic.ts';
import { normalAt } from '../../src/kernels/rng.ts';

/**
 * Central differences in float64 with h = 1e-5: truncation error h²/6·|f'''| ≈ 1e-10 for these
 * smooth, O(1)-scaled problems, rounding ≈ ε·|f|/h ≈ 2e-16·10/1e-5 = 2e-10; tolerance 1e-6
 * relative to max(1, ‖g‖∞) leaves a wide margin for both.
 */
function finiteDifference(task: SyntheticTask, theta: Float64Array, rows?: number[]): Float64Array {
  const h = 1e-5;
  return Float64Array.from({ length: task.dim }, (_, i) => {
    const plus = Float64Array.from(theta);
    const minus = Float64Array.from(theta);
    plus[i]! += h;
    minus[i]! -= h;
    return (task.lossAt(plus, rows) - task.lossAt(minus, rows)) / (2 * h);
  });
}

function expectGradientMatches(task: SyntheticTask, seed: number, rows?: number[]): void {
  const theta = Float64Array.from({ length: task.dim }, (_, i) => task.initial[i]! + 0.5 * normalAt(seed, 9, i));
  const analytic = task.gradientAt(theta, rows);
  const numeric = finiteDifference(task, theta, rows);
  const scale = Math.max(1, ...analytic.map(Math.abs));
  for (let i = 0; i < task.dim; i++) expect(Math.abs(analytic[i]! - numeric[i]!)).toBeLessThan(1e-6 * scale);
}

const seeds = fc.integer({ min: 0, max: 10_000 });

describe('synthetic tasks: analytic gradients equal central differences', () => {
  test.prop([seeds, fc.integer({ min: 1, max: 6 })], { seed: 21, numRuns: 20 })('least squares', (seed, dim) => {
    expectGradientMatches(leastSquares({ samples: 12, dim, seed }), seed);
    expectGradientMatches(leastSquares({ samples: 12, dim, seed }), seed, [0, 3, 3, 7]);
  });

  test.prop([seeds, fc.integer({ min: 1, max: 6 })], { seed: 22, numRuns: 20 })('logistic regression', (seed, dim) => {
    expectGradientMatches(logisticRegression({ samples: 15, dim, seed, l2: 0.01 }), seed);
    expectGradientMatches(logisticRegression({ samples: 15, dim, seed }), seed, [1, 2]);
  });

  test.prop([seeds], { seed: 23, numRuns: 15 })('teacher–student MLP', (seed) => {
    expectGradientMatches(teacherStudent({ samples: 6, inputDim: 3, hidden: 4, outputDim: 2, seed }), seed);
  });

  test.prop([seeds, fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { minLength: 1, maxLength: 6 })], { seed: 24, numRuns: 20 })(
    'quadratic with a given spectrum',
    (seed, spectrum) => {
      expectGradientMatches(quadraticTask({ spectrum, seed }), seed);
    },
  );
});

describe('synthetic tasks: known structure', () => {
  it('quadratic has the requested spectrum and its minimum at θ*', () => {
    const spectrum = [5, 1, 0.1, 0.01];
    const task = quadraticTask({ spectrum, seed: 3 });
    const q = new Matrix(Array.from({ length: 4 }, (_, i) => [...task.hessian.subarray(i * 4, i * 4 + 4)]));
    const eigenvalues = new EigenvalueDecomposition(q, { assumeSymmetric: true }).realEigenvalues.sort((a, b) => b - a);
    // Q = U diag(λ) Uᵀ with U orthogonal to rounding: eigenvalues agree to ~1e-15·λ_max
    eigenvalues.forEach((l, i) => expect(l).toBeCloseTo(spectrum[i]!, 12));
    expect(task.lossAt(task.minimizer!)).toBe(0);
    expect(task.gradientAt(task.minimizer!).every((g) => g === 0)).toBe(true);
  });

  it('teacher–student loss is zero at the teacher', () => {
    const task = teacherStudent({ samples: 10, inputDim: 4, hidden: 3, seed: 1 });
    expect(task.lossAt(task.minimizer!)).toBe(0);
    expect(task.lossAt(task.initial)).toBeGreaterThan(0);
  });

  it('rejects bad shapes and rows', () => {
    const task = leastSquares({ samples: 4, dim: 2 });
    expect(() => task.lossAt(new Float64Array(3))).toThrow(/θ must have 2 entries, got 3/);
    expect(() => task.lossAt(new Float64Array(2), [4])).toThrow(/row must be an integer in \[0, 4\), got 4/);
    expect(() => quadraticTask({ spectrum: [1, -1] })).toThrow(/eigenvalues ≥ 0/);
    expect(() => leastSquares({ samples: 0, dim: 2 })).toThrow(/leastSquares\.samples must be a positive integer, got 0/);
  });
});

describe('synthetic tasks on a ParamStore', () => {
  it('round-trips θ and exposes loss and gradient by parameter name', async () => {
    const task = teacherStudent({ samples: 8, inputDim: 3, hidden: 5, outputDim: 2, seed: 2 });
    const store = taskParamStore(task, new Engine(new CpuBackend()));
    expect(store.all().map((p) => p.name)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(store.count()).toBe(task.dim);
    const theta = await thetaFromStore(task, store);
    // θ passes through float32 once: relative error ≤ 2⁻²⁴
    theta.forEach((t, i) => expect(Math.abs(t - task.initial[i]!)).toBeLessThanOrEqual(Math.abs(task.initial[i]!) * 2 ** -24));
    expect(await storeLoss(task, store)()).toBeCloseTo(task.lossAt(theta), 12);
    const grads = await storeGradient(task, store);
    expect(grads.get('fc2.bias')).toHaveLength(2);
  });
});
