import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { buildQuadratic, buildSmoothNonConvex, quadratic } from '../../src/assumptions/arbitraries.ts';
import { estimatorQuality, gaussianDimensionFactor, gaussianSpsaSampler } from '../../src/assumptions/estimatorQuality.ts';
import { hessianEffectiveRank, hutchinsonTrace, lanczos } from '../../src/assumptions/hessian.ts';
import { plIndicator, type TrajectoryPoint } from '../../src/assumptions/pl.ts';
import { gradientLipschitz } from '../../src/assumptions/smoothness.ts';
import { dot } from '../../src/assumptions/vectors.ts';

const RUNS = { seed: 20261124, numRuns: 12 };

describe('Hessian checkers on quadratics with a prescribed spectrum', () => {
  test.prop([quadratic({ maxDim: 16 })], RUNS)('Lanczos with k = d recovers L and μ', async (problem) => {
    const theta = new Float64Array(problem.dim).fill(0.3);
    const result = await lanczos(problem, theta, problem.dim, 7);
    // The HVP of a quadratic is exact up to rounding (≈1e-13 relative here), and Lanczos with full
    // reorthogonalisation over the whole space reproduces the spectrum; 1e-6·L leaves a wide margin.
    expect(Math.abs(result.top - problem.smoothness)).toBeLessThan(1e-6 * problem.smoothness);
    expect(Math.abs(result.bottom - problem.strongConvexity)).toBeLessThan(1e-6 * problem.smoothness);
  });

  test.prop([quadratic({ maxDim: 20, spectrum: 'uniform' })], RUNS)('Hutchinson trace lies within 5 standard deviations of tr(A)', async (problem) => {
    const probes = 64;
    const theta = new Float64Array(problem.dim);
    const estimate = await hutchinsonTrace(problem, theta, probes, 3);
    // Var(vᵀAv) = 2(‖A‖_F² − Σ Aᵢᵢ²) for Rademacher v; the mean of 64 probes has 1/64 of it.
    let frobenius = 0;
    let diagonal = 0;
    for (let i = 0; i < problem.dim; i++) {
      for (let j = 0; j < problem.dim; j++) frobenius += problem.hessian[i * problem.dim + j]! ** 2;
      diagonal += problem.hessian[i * problem.dim + i]! ** 2;
    }
    const standardDeviation = Math.sqrt((2 * (frobenius - diagonal)) / probes);
    expect(Math.abs(estimate.mean - problem.trace)).toBeLessThanOrEqual(5 * standardDeviation + 1e-9 * problem.trace);
  });

  test('effective rank of a low-effective-rank quadratic is tr(A)/L, far below d', async () => {
    const eigenvalues = [100, 100, ...new Array<number>(62).fill(0.01)];
    const problem = buildQuadratic(eigenvalues, 11);
    const estimate = await hessianEffectiveRank(problem, new Float64Array(64), { probes: 48, lanczosIterations: 20, seed: 5 });
    expect(estimate.spectrum.top).toBeCloseTo(100, 6);
    // tr = 200.62; Hutchinson's SD here is √(2(‖A‖_F² − ΣAᵢᵢ²)/48) ≈ 13, so r = tr/L within 5 SD/L ≈ 0.65.
    expect(Math.abs(estimate.effectiveRank - problem.effectiveRank)).toBeLessThan(0.65);
    expect(estimate.relativeToDimension).toBeLessThan(0.05);
  });

  test('non-convex test function: Lanczos finds L = 1 + a where cos θ = −1', async () => {
    const problem = buildSmoothNonConvex(12, 2.5);
    const atPi = new Float64Array(12).fill(Math.PI);
    const top = await lanczos(problem, atPi, 12, 1);
    expect(top.top).toBeCloseTo(problem.smoothness, 4);
    const atZero = await lanczos(problem, new Float64Array(12), 12, 1);
    expect(atZero.bottom).toBeCloseTo(problem.curvatureFloor, 4); // 1 − a < 0: non-convex
  });
});

describe('smoothness', () => {
  test.prop([quadratic({ maxDim: 16 })], RUNS)('directional Lipschitz ratios never exceed L and reach at least μ', async (problem) => {
    const theta = new Float64Array(problem.dim).fill(-0.2);
    const estimate = await gradientLipschitz(problem, theta, { directions: 8, seed: 2 });
    // For a quadratic the ratio along unit u is ‖Au‖ ∈ [μ, L] exactly (finite differences are exact).
    expect(estimate.lowerBound).toBeLessThanOrEqual(problem.smoothness * (1 + 1e-6));
    expect(estimate.random.max).toBeGreaterThanOrEqual(problem.strongConvexity * (1 - 1e-6));
  });
});

describe('PL indicator', () => {
  test('along gradient descent on a quadratic the PL ratio is ≥ μ and tends to μ', () => {
    const problem = buildQuadratic([10, 1, 0.5], 4);
    let theta = new Float64Array([1, -2, 3]);
    const points: TrajectoryPoint[] = [];
    for (let step = 0; step < 400; step++) {
      const g = problem.gradientAt(theta);
      points.push({ step, loss: problem.lossAt(theta), gradientNormSquared: dot(g, g) });
      theta = theta.map((x, i) => x - 0.1 * g[i]!);
    }
    const indicator = plIndicator(points, 0);
    expect(indicator.muEstimate).toBeGreaterThanOrEqual(0.5 * (1 - 1e-9));
    // The slow mode dominates after 400 steps: the fast ones shrank by (0.9/0.95)^400 ≈ 4e-10 relative.
    expect(indicator.ratios[indicator.ratios.length - 1]!.ratio).toBeCloseTo(0.5, 6);
  });

  test('a loss below f* is reported, naming the step', () => {
    expect(() => plIndicator([{ step: 3, loss: -1, gradientNormSquared: 1 }], 0)).toThrow(/step 3/);
  });
});

describe('estimator quality', () => {
  test.prop([fc.integer({ min: 2, max: 40 }), fc.integer({ min: 0, max: 1000 })], { seed: 99, numRuns: 6 })(
    'Gaussian SPSA: measured E‖ĝ‖²/‖g‖² matches d + 2 within 5 standard errors',
    async (dim, seed) => {
      const problem = buildQuadratic(new Array<number>(dim).fill(1).map((_, i) => 1 + i), seed);
      const theta = new Float64Array(dim).fill(1);
      const g = problem.gradientAt(theta);
      const quality = await estimatorQuality(gaussianSpsaSampler(problem, theta, 1e-3, seed), g, { draws: 4000 });
      const theory = gaussianDimensionFactor(dim);
      expect(Math.abs(quality.dimensionFactor.mean - theory)).toBeLessThan(5 * quality.dimensionFactor.standardError);
      // E‖mean of N estimates − g‖²/‖g‖² = (d + 1)/N for the exact central difference (spec §1.3);
      // Markov's inequality puts the realised value above 5× that with probability ≤ 0.2, and the seeds are fixed.
      const last = quality.convergence[quality.convergence.length - 1]!;
      expect(last.relativeError ** 2).toBeLessThan((5 * (dim + 1)) / 4000);
    },
  );
});
