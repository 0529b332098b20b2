/**
 * Each ZO optimizer's update against its equation, computed on the host in float64 from the logged
 * projected gradients and the reference noise (zo-estimators.md §4.1, §3.3, §5.15, §5.16), and
 * ZO-SGD's rate on a strongly convex quadratic (§5.9, §5.10).
 *
 * Tolerance for the hand-computed cases: the device works in float32, so each step adds a few
 * units of roundoff of the largest intermediate (|θ| < 2, ε|z| < 0.06, η|c·z| < 1): we allow
 * 1e-5 absolute after ≤ 4 steps (≈ 80 ulps of 1), far below any real deviation (≥ 1e-3 here).
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import type { ParamStore } from '../../src/tensor/index.ts';
import { createEstimator, type StepRecord } from '../../src/zo/index.ts';
import {
  diagonalQuadratic, dot, FLOAT32_EPS, fixtureValues, flatTrainable, hostU, hostV, hostZ, makeStore,
} from './quadratic.ts';

const TOLERANCE = 1e-5;

function smallStore() {
  return makeStore([
    { name: 'w', shape: [2, 3], values: fixtureValues(6, 21) },
    { name: 'b', shape: [2], values: fixtureValues(2, 22) },
  ]);
}

const G = Float64Array.from(fixtureValues(8, 23));
const linearLoss = async (store: ParamStore) => dot(flatTrainable(store), G);
const isWeight = (i: number) => i < 6;

async function run(method: string, overrides: Record<string, number>, steps: number, loss = linearLoss) {
  const store = smallStore();
  const estimator = createEstimator(method, { eps: 1e-2, ...overrides });
  let state = estimator.init(store, { seed: 31 });
  const thetas = [flatTrainable(store)];
  const records: StepRecord[] = [];
  for (let t = 0; t < steps; t++) {
    const result = await estimator.step(state, { loss });
    state = result.state;
    records.push(result.record);
    thetas.push(flatTrainable(store));
  }
  return { store, thetas, records };
}

function expectClose(actual: Float64Array, expected: Float64Array, tolerance = TOLERANCE): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((value, i) => expect(Math.abs(value - expected[i]!)).toBeLessThanOrEqual(tolerance));
}

/** ĝ = (1/q)Σ coefficient(c_j)·z_j from a record. */
function estimateOf(store: ParamStore, record: StepRecord, coefficient = (c: number) => c): Float64Array {
  const out = new Float64Array(8);
  record.seeds.forEach((seed, j) => {
    const z = hostZ(store.trainable(), seed);
    z.forEach((zi, i) => (out[i]! += (coefficient(record.projectedGradients[j]!) * zi) / record.seeds.length));
  });
  return out;
}

describe('update equations on hand-computed cases', () => {
  it('ZO-SGD with coupled decay on matrices only: θ ← (1−ηλ)θ − ηĝ (q = 2 averages)', async () => {
    const lr = 0.05;
    const weightDecay = 0.1;
    const { store, thetas, records } = await run('mezo', { lr, weightDecay, queries: 2 }, 3);
    records.forEach((record, t) => {
      const g = estimateOf(store, record);
      const expected = thetas[t]!.map((th, i) => (isWeight(i) ? 1 - lr * weightDecay : 1) * th - lr * g[i]!);
      expectClose(thetas[t + 1]!, expected);
      expect(record.forwardPasses).toBe(4);
    });
  });

  it('ZO-SGD-Sign: θ ← (1−ηλ)θ − η·sign(c)·z', async () => {
    const lr = 0.01;
    const { store, thetas, records } = await run('zo-sgd-sign', { lr, weightDecay: 0.2 }, 3);
    records.forEach((record, t) => {
      const g = estimateOf(store, record, Math.sign);
      const expected = thetas[t]!.map((th, i) => (isWeight(i) ? 1 - lr * 0.2 : 1) * th - lr * g[i]!);
      expectClose(thetas[t + 1]!, expected);
    });
  });

  it('ZO-SGD-MMT: m ← βm + ĝ + λθ, θ ← θ − ηm (torch SGD, m₀ = 0)', async () => {
    const lr = 0.02;
    const beta = 0.9;
    const weightDecay = 0.05;
    const { store, thetas, records } = await run('zo-sgd-mmt', { lr, momentum: beta, weightDecay }, 3);
    let m = new Float64Array(8);
    let theta = thetas[0]!;
    records.forEach((record, t) => {
      const g = estimateOf(store, record);
      m = m.map((mi, i) => beta * mi + g[i]! + (isWeight(i) ? weightDecay * theta[i]! : 0));
      theta = theta.map((th, i) => th - lr * m[i]!);
      expectClose(thetas[t + 1]!, theta);
    });
  });

  it('ZO-Adam: Adam on ĝ with β = (0.9, 0.999), bias-corrected step size', async () => {
    const lr = 0.01;
    const [beta1, beta2, adamEps] = [0.9, 0.999, 1e-8];
    const { store, thetas, records } = await run('zo-adam', { lr }, 3);
    let m = new Float64Array(8);
    let v = new Float64Array(8);
    let theta = thetas[0]!;
    records.forEach((record, t) => {
      const g = estimateOf(store, record);
      m = m.map((mi, i) => beta1 * mi + (1 - beta1) * g[i]!);
      v = v.map((vi, i) => beta2 * vi + (1 - beta2) * g[i]! ** 2);
      const stepSize = (lr * Math.sqrt(1 - beta2 ** (t + 1))) / (1 - beta1 ** (t + 1));
      theta = theta.map((th, i) => th - (stepSize * m[i]!) / (Math.sqrt(v[i]!) + adamEps));
      expectClose(thetas[t + 1]!, theta);
    });
  });

  it('LOZO-M: N ← βN + (1−β)cU, W ← W − ηNVᵀ, re-projected by V_oldᵀV_new/n when V changes', async () => {
    const lr = 0.05;
    const beta = 0.8;
    const rank = 1;
    const interval = 2;
    const { store, thetas, records } = await run('lozo-m', { lr, beta, rank, interval }, 5);
    const [w, b] = store.trainable() as [ReturnType<typeof store.get>, ReturnType<typeof store.get>];
    const [rows, cols] = [2, 3];
    let N = new Float64Array(rows * rank);
    let m = new Float64Array(2);
    let theta = thetas[0]!;
    records.forEach((record, t) => {
      const c = record.projectedGradients[0]!;
      const seed = record.seeds[0]!;
      const U = hostU(w, seed, rank);
      const V = hostV(w, 31, Math.floor(t / interval), rank);
      const z = hostZ([b], seed);
      if (t === 0) {
        N = U.map((u) => c * u);
        m = z.map((zi) => c * zi);
      } else {
        if (t % interval === 0) {
          const Vold = hostV(w, 31, t / interval - 1, rank);
          const basis = dot(Vold, V); // r = 1: V_oldᵀV_new is a scalar
          N = N.map((ni) => (beta * ni * basis) / cols);
        } else {
          N = N.map((ni) => beta * ni);
        }
        N = N.map((ni, i) => ni + (1 - beta) * c * U[i]!);
        m = m.map((mi, i) => beta * mi + (1 - beta) * c * z[i]!);
      }
      theta = theta.map((th, i) => (i < 6 ? th - lr * N[Math.floor(i / cols)]! * V[i % cols]! : th - lr * m[i - 6]!));
      expectClose(thetas[t + 1]!, theta);
    });
  });

  it('weight-decay masking (§5.15): with c = 0, matrices shrink by (1 − ηλ) per step and 1-D tensors stay put', async () => {
    const lr = 0.1;
    const weightDecay = 0.5;
    const { thetas } = await run('mezo', { lr, weightDecay }, 4, async () => 1.5);
    thetas.forEach((theta, t) => {
      theta.forEach((value, i) => {
        const expected = thetas[0]![i]! * (isWeight(i) ? (1 - lr * weightDecay) ** t : 1);
        // perturb/restore rounding only: a few ulps of max(|θ|, ε|z|) per step.
        expect(Math.abs(value - expected)).toBeLessThanOrEqual(4 * t * FLOAT32_EPS * Math.max(Math.abs(thetas[0]![i]!), 0.06));
      });
    });
  });
});

describe('ZO-SGD-Cons (§5.16)', () => {
  const problem = diagonalQuadratic([1, 3, 2, 0.5, 4, 1, 2, 1], fixtureValues(8, 41));
  test.prop([fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom(0.05, 0.3, 2)], { seed: 17, numRuns: 30 })(
    'the kept point has loss ≤ L(θ) on the batch, θ ends at that point, and a step costs 5 passes',
    async (runSeed, lr) => {
      const store = smallStore();
      const estimator = createEstimator('zo-sgd-cons', { lr, eps: 1e-2 });
      const state = estimator.init(store, { seed: runSeed });
      const before = flatTrainable(store);
      const { record } = await estimator.step(state, { loss: problem.loss });
      const losses = record.optimizerLosses!;
      const kept = record.decision as 'base' | 'minus' | 'plus';
      expect(losses[kept]!).toBeLessThanOrEqual(losses.base!);
      expect(losses[kept]!).toBe(Math.min(losses.base!, losses.minus!, losses.plus!));
      const g = estimateOf(store, record);
      const position = { base: 0, minus: -1, plus: 1 }[kept];
      expectClose(flatTrainable(store), before.map((th, i) => th + position * lr * g[i]!), 1e-5 * Math.max(1, lr * 10));
      expect(record.forwardPasses).toBe(5);
    },
  );
});

describe('ZO-SGD on a strongly convex quadratic (§5.9, §5.10)', () => {
  const a = [1, 2, 3, 4, 5, 6, 7, 8];
  const problem = diagonalQuadratic(a, fixtureValues(8, 51));
  const trace = a.reduce((s, x) => s + x, 0);
  const [mu, L] = [1, 8];
  const lr = 1 / (trace + 2 * L);

  it('one-step expectation: E f(θ − η(zᵀg)z) = f − η‖g‖² + (η²/2)(tr(A)‖g‖² + 2gᵀAg)', async () => {
    const store = smallStore();
    const start = await store.snapshot();
    const theta = flatTrainable(store);
    const g = problem.gradient(theta);
    const gAg = g.reduce((s, gi, i) => s + gi * a[i]! * gi, 0);
    const exact = problem.value(theta) - lr * dot(g, g) + ((lr * lr) / 2) * (trace * dot(g, g) + 2 * gAg);
    const estimator = createEstimator('zo-sgd', { lr, eps: 1e-2 });
    let state = estimator.init(store, { seed: 61 });
    const values: number[] = [];
    for (let t = 0; t < 3000; t++) {
      store.load(start);
      state = (await estimator.step(state, { loss: problem.loss })).state;
      values.push(problem.value(flatTrainable(store)));
    }
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1));
    expect(Math.abs(mean - exact)).toBeLessThanOrEqual((5 * sd) / Math.sqrt(values.length));
  });

  it('η = 1/(tr(A)+2L): E[f(θ_T) − f*] ≤ (1 − μ/(tr(A)+2L))^T (f(θ_0) − f*)', async () => {
    const steps = 60;
    const runs = 40;
    const gaps: number[] = [];
    let initialGap = 0;
    for (let r = 0; r < runs; r++) {
      const store = smallStore();
      initialGap = problem.value(flatTrainable(store)) - problem.minimum;
      const estimator = createEstimator('zo-sgd', { lr, eps: 1e-2 });
      let state = estimator.init(store, { seed: 1000 + r });
      for (let t = 0; t < steps; t++) state = (await estimator.step(state, { loss: problem.loss })).state;
      gaps.push(problem.value(flatTrainable(store)) - problem.minimum);
    }
    const bound = (1 - mu / (trace + 2 * L)) ** steps * initialGap;
    const mean = gaps.reduce((s, v) => s + v, 0) / runs;
    const sd = Math.sqrt(gaps.reduce((s, v) => s + (v - mean) ** 2, 0) / (runs - 1));
    // the bound holds for the expectation; the sample mean may exceed it by sampling noise only.
    expect(mean).toBeLessThanOrEqual(bound + (5 * sd) / Math.sqrt(runs));
    expect(mean).toBeLessThan(0.5 * initialGap); // and it does converge
  });
});
