/**
 * The step engine with the Gaussian perturbation and the central difference (MeZO), on synthetic
 * quadratics (zo-estimators.md §5.2–5.4, 5.8, 5.11). Statistical tolerances are 5 standard errors,
 * estimated from the same sample (stated at each assertion); seeds are fixed, so the tests are
 * deterministic.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { DivergenceError } from '../../src/errors.ts';
import { createEstimator, registerPart, registerPreset, type Overrides, type ZoOptimizer } from '../../src/zo/index.ts';
import {
  diagonalQuadratic, dot, FLOAT32_EPS, fixtureValues, flatTrainable, hostZ, makeStore, UNIT_ROUNDOFF,
} from './quadratic.ts';

function quadraticStore(seed = 1) {
  const store = makeStore([
    { name: 'w', shape: [2, 3], values: fixtureValues(6, seed) },
    { name: 'frozen', shape: [2], values: [0.5, -0.5], trainable: false },
    { name: 'b', shape: [3], values: fixtureValues(3, seed + 1) },
  ]);
  const problem = diagonalQuadratic([1, 2, 3, 0.5, 1.5, 2.5, 1, 4, 0.25], fixtureValues(9, seed + 2));
  return { store, problem };
}

describe('central difference on a quadratic (§5.4)', () => {
  test.prop([fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom(1e-3, 1e-2, 1e-1)], { seed: 11, numRuns: 25 })(
    'c equals zᵀ∇f for every ε, and the update is −η·c·z',
    async (runSeed, eps) => {
      const { store, problem } = quadraticStore();
      const estimator = createEstimator('mezo', { eps, lr: 1e-3 });
      const state = estimator.init(store, { seed: runSeed });
      const before = flatTrainable(store);
      const { record } = await estimator.step(state, { loss: problem.loss });
      const z = hostZ(store.trainable(), record.seeds[0]!);
      const g = problem.gradient(before);
      const exact = dot(z, g);
      // The only error is rounding of the float32 points θ ± εz (one rounding for +ε, two more for
      // −2ε): |δ_i| ≤ 3u(|θ_i| + 2ε|z_i|), entering c as Σ|g_i||δ_i|/(2ε) (+ O(δ²) curvature).
      let bound = 0;
      z.forEach((zi, i) => (bound += (Math.abs(g[i]!) * 3 * UNIT_ROUNDOFF * (Math.abs(before[i]!) + 2 * eps * Math.abs(zi))) / (2 * eps)));
      expect(Math.abs(record.projectedGradients[0]! - exact)).toBeLessThanOrEqual(2 * bound + 1e-12);
      const after = flatTrainable(store);
      after.forEach((value, i) => {
        const expected = before[i]! - 1e-3 * record.projectedGradients[0]! * z[i]!;
        // restore+update rounding: a few float32 ulps of the largest intermediate.
        expect(Math.abs(value - expected)).toBeLessThanOrEqual(4 * FLOAT32_EPS * (Math.abs(before[i]!) + 2 * eps * Math.abs(z[i]!)));
      });
      expect(record.forwardPasses).toBe(2);
      expect(record.queryLosses[0]).toHaveLength(2);
      expect(record.loss).toBe(record.queryLosses[0]![0]);
    },
  );
});

/** Runs `count` steps with lr = 0 and returns the estimates ĝ = (1/q)Σ c_j z_j (host float64). */
async function sampleEstimates(count: number, queries: number, runSeed: number) {
  const { store, problem } = quadraticStore();
  const estimator = createEstimator('mezo', { lr: 0, eps: 1e-2, queries });
  let state = estimator.init(store, { seed: runSeed });
  const theta = flatTrainable(store);
  const params = store.trainable();
  const estimates: Float64Array[] = [];
  for (let t = 0; t < count; t++) {
    const result = await estimator.step(state, { loss: problem.loss });
    state = result.state;
    const estimate = new Float64Array(theta.length);
    result.record.seeds.forEach((seed, j) => {
      const z = hostZ(params, seed);
      z.forEach((zi, i) => (estimate[i]! += (result.record.projectedGradients[j]! * zi) / queries));
    });
    estimates.push(estimate);
  }
  return { estimates, gradient: problem.gradient(theta) };
}

function meanAndStandardError(values: readonly number[]): { mean: number; standardError: number } {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
  return { mean, standardError: Math.sqrt(variance / values.length) };
}

describe('unbiasedness and second moment (§5.2, §5.3, §5.11)', () => {
  it('the mean of many estimates converges to ∇f within a CLT bound', async () => {
    const count = 4000;
    const { estimates, gradient } = await sampleEstimates(count, 1, 7);
    const squaredNorm = dot(gradient, gradient);
    gradient.forEach((gi, i) => {
      const mean = estimates.reduce((s, e) => s + e[i]!, 0) / count;
      // per-coordinate variance of (zᵀg)z_i is ‖g‖² + g_i² (§5.2); 5 standard errors.
      expect(Math.abs(mean - gi)).toBeLessThanOrEqual(5 * Math.sqrt((squaredNorm + gi * gi) / count));
    });
  });

  it('E‖ĝ‖² = (d+2)‖∇f‖² for one Gaussian query and (d+n+1)/n·‖∇f‖² for n = 4', async () => {
    for (const queries of [1, 4]) {
      const count = queries === 1 ? 6000 : 2500;
      const { estimates, gradient } = await sampleEstimates(count, queries, 19 + queries);
      const d = gradient.length;
      const { mean, standardError } = meanAndStandardError(estimates.map((e) => dot(e, e)));
      const theory = ((d + queries + 1) / queries) * dot(gradient, gradient);
      // heavy-tailed statistic: tolerance is 5 standard errors estimated from the sample itself.
      expect(Math.abs(mean - theory)).toBeLessThanOrEqual(5 * standardError);
      expect(standardError / theory).toBeLessThan(0.05); // the test has power: SE below 5% of the value
    }
  });
});

describe('seed-trick round trip (§5.8)', () => {
  test.prop(
    [fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom(1e-4, 1e-3, 1e-1), fc.constantFrom('mezo', 'mezo-sphere', 'mezo-rademacher', 'lozo', 'zo-sgd-one-sided')],
    { seed: 5, numRuns: 30 },
  )('with lr = 0 a step leaves θ unchanged within a few ulps of max(|θ_i|, ε|z_i|)', async (runSeed, eps, method) => {
    const { store, problem } = quadraticStore(3);
    const overrides: Overrides = method === 'lozo' ? { lr: 0, eps, rank: 1 } : { lr: 0, eps };
    const estimator = createEstimator(method, overrides);
    const state = estimator.init(store, { seed: runSeed });
    const before = flatTrainable(store);
    await estimator.step(state, { loss: problem.loss });
    const after = flatTrainable(store);
    // |z_i| ≤ 6 with overwhelming probability for these sizes (Box–Muller on 24-bit uniforms caps |z| at ≈ 5.8);
    // sphere directions are rescaled by √d/‖g‖ ≤ 3 here; low-rank entries (UVᵀ)_ij are sums of r products.
    const zMax = 6 * 3 * 6;
    before.forEach((value, i) => {
      expect(Math.abs(after[i]! - value)).toBeLessThanOrEqual(4 * FLOAT32_EPS * Math.max(Math.abs(value), eps * zMax));
    });
  });
});

describe('the engine owns the restore', () => {
  /** An optimizer that changes nothing and records the restore it was handed. */
  function idle(name: string, fusesRestore: boolean, seen: number[]): ZoOptimizer<null, never> {
    return {
      kind: 'optimizer', name, description: 'test: no update', options: {}, fusesRestore,
      init: () => null,
      async update(ctx, state) {
        seen.push(ctx.pendingRestore);
        return { state };
      },
      dispose: () => {},
    };
  }

  it('restores θ unless the optimizer declares it fuses the restore, which then gets the pending +ε', async () => {
    const seen: number[] = [];
    registerPart(idle('idleTest', false, seen));
    registerPart(idle('idleFusingTest', true, seen));
    const parts = { perturbation: 'gaussian', schedule: 'fixed', difference: 'central' };
    registerPreset({ name: 'idle-test', description: '', reference: 'test', parts: { ...parts, optimizer: 'idleTest' }, defaults: {} });
    registerPreset({ name: 'idle-fusing-test', description: '', reference: 'test', parts: { ...parts, optimizer: 'idleFusingTest' }, defaults: {} });
    const eps = 1e-2;
    for (const method of ['idle-test', 'idle-fusing-test']) {
      const { store, problem } = quadraticStore(5);
      const estimator = createEstimator(method, { eps });
      const state = estimator.init(store, { seed: 12 });
      const before = flatTrainable(store);
      const { record } = await estimator.step(state, { loss: problem.loss });
      const z = hostZ(store.trainable(), record.seeds[0]!);
      const after = flatTrainable(store);
      // central difference visits θ + εz, θ − εz: restored θ within a few ulps; an un-applied fused restore leaves θ − εz
      const expected = method === 'idle-test' ? before : before.map((value, i) => value - eps * z[i]!);
      expected.forEach((value, i) => expect(Math.abs(after[i]! - value)).toBeLessThanOrEqual(4 * FLOAT32_EPS * Math.max(Math.abs(value), eps * 6)));
    }
    expect(seen).toEqual([0, eps]);
  });
});

describe('divergence', () => {
  it('a NaN loss restores θ, throws DivergenceError with the step and does not advance the state', async () => {
    const { store, problem } = quadraticStore();
    const estimator = createEstimator('mezo', { lr: 1e-2 });
    let state = estimator.init(store, { seed: 3 });
    state = (await estimator.step(state, { loss: problem.loss })).state;
    const before = flatTrainable(store);
    let calls = 0;
    const poisoned = async (s: typeof store) => (++calls === 2 ? Number.NaN : problem.loss(s));
    const error = await estimator.step(state, { loss: poisoned }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DivergenceError);
    expect((error as DivergenceError).step).toBe(1);
    expect((error as Error).message).toMatch(/step 1/);
    const after = flatTrainable(store);
    // +ε, −2ε, then the restore +ε: a few ulps of max(|θ_i|, ε|z_i|), |z_i| < 6, ε = 1e-3.
    before.forEach((value, i) => expect(Math.abs(after[i]! - value)).toBeLessThanOrEqual(4 * FLOAT32_EPS * Math.max(Math.abs(value), 6e-3)));
    expect(state.step).toBe(1);
  });

  it('works with a non-differentiable objective (an accuracy-like step function)', async () => {
    const { store } = quadraticStore();
    const estimator = createEstimator('mezo', { lr: 0.05, eps: 0.05 });
    let state = estimator.init(store, { seed: 9 });
    // "error rate" of three thresholds: piecewise constant in θ; c is 0 or ±k/(2ε).
    const thresholds = flatTrainable(store).slice(0, 3).map((value) => value + 0.02);
    const errorRate = async (s: typeof store) => {
      const theta = flatTrainable(s);
      return [0, 1, 2].filter((i) => theta[i]! < thresholds[i]!).length / 3;
    };
    const initial = await errorRate(store);
    expect(initial).toBeGreaterThan(0);
    for (let t = 0; t < 200; t++) {
      const { state: next, record } = await estimator.step(state, { loss: errorRate });
      state = next;
      for (const c of record.projectedGradients) expect(Number.isFinite(c)).toBe(true);
    }
    // ZO-SGD descends the smoothed step function: the error rate falls (fixed seed, deterministic).
    expect(await errorRate(store)).toBeLessThan(initial);
  });
});
