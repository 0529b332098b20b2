import { describe, expect, it } from 'vitest';
import { estimatorQuality, gaussianDimensionFactor, lozoDimensionFactor } from '../../src/assumptions/estimatorQuality.ts';
import { dot, norm } from '../../src/assumptions/vectors.ts';
import { combinedDimensionFactor } from '../../src/experiment/check/dimensionFactor.ts';
import { estimatorSampler } from '../../src/experiment/check/estimatorSampler.ts';
import { modelObjective, modelProblem, workloadObjective } from '../../src/experiment/check/problem.ts';
import { createBlobsWorkload } from '../../src/experiment/synthetic.ts';
import { normalAt } from '../../src/kernels/rng.ts';
import { spectralTraces } from '../../src/experiment/check/spectralDensity.ts';
import { buildQuadratic } from '../../src/assumptions/arbitraries.ts';
import { syncProblem } from '../../src/assumptions/problem.ts';
import { CpuBackend } from '../../src/kernels/index.ts';
import { EncoderClassifier } from '../../src/nn/index.ts';
import { Engine } from '../../src/tensor/index.ts';
import { createEstimator } from '../../src/zo/index.ts';

/** A 1-layer encoder with width 8: d = 826 parameters, every kind of tensor the real models have. */
async function smallModelProblem() {
  const engine = new Engine(new CpuBackend());
  const model = new EncoderClassifier(engine, { vocab: 16, dModel: 8, layers: 1, heads: 2, dFf: 16, seq: 8, layerNormEps: 1e-5, initStd: 0.2, classes: 2 }, 3);
  const rows = 4;
  const seq = 6;
  const ids = Int32Array.from({ length: rows * seq }, (_, i) => (i * 7 + 3) % 16);
  const batch = { ids, batch: rows, seq, labels: Int32Array.from([0, 1, 1, 0]) };
  return { model, problem: await modelProblem(modelObjective(model, batch)) };
}

describe('modelProblem', () => {
  it("a model's tape gradient equals central finite differences of its loss, and θ is restored bit for bit", async () => {
    const { model, problem } = await smallModelProblem();
    const before = await model.params.snapshot();
    const theta = problem.start();
    const g = await problem.gradient(theta);
    expect(norm(g)).toBeGreaterThan(1e-3);
    const directions = [g.map((x) => x / norm(g))];
    for (let k = 0; k < 4; k++) {
      const v = Float64Array.from({ length: problem.dim }, (_, i) => normalAt(11, k, i));
      directions.push(v.map((x) => x / norm(v)));
    }
    const h = 1e-2;
    for (const v of directions) {
      const plus = await problem.loss(theta.map((x, i) => x + h * v[i]!));
      const minus = await problem.loss(theta.map((x, i) => x - h * v[i]!));
      const difference = (plus - minus) / (2 * h);
      // Error budget: float32 losses (|f| ≈ 0.7) carry ≈ 1e-6 absolute rounding, /h → 1e-4; the
      // truncation (h²/6)|∂³f| is ≈ 2e-5·|∂³f| with |∂³f| = O(10) for this width → ≤ 2e-4. 2e-3 is 5× that sum.
      expect(Math.abs(difference - dot(g, v))).toBeLessThan(2e-3);
    }
    const after = await model.params.snapshot();
    for (const [name, values] of before) expect(after.get(name)).toEqual(values);
  });
});

describe('estimator-quality sampler built from the estimator parts', () => {
  it('MeZO (Gaussian × central) reproduces E‖ĝ‖²/‖g‖² = d + 2 on a small model within 5 SE', async () => {
    const { problem } = await smallModelProblem();
    const g = await problem.gradient(problem.start());
    const sampler = estimatorSampler(createEstimator('mezo'), problem, { seed: 5 });
    const theory = sampler.theory(g)!;
    expect(theory).toBeCloseTo(gaussianDimensionFactor(problem.dim), 6);
    const quality = await estimatorQuality(sampler.sample, g, { draws: 300 });
    sampler.dispose();
    // ‖ĝ‖²/‖g‖² = (c/‖g‖)²‖z‖²: a χ²₁-like variable times ≈ d, so the SE of the mean over 300 draws is
    // ≈ √2·d/√300 ≈ 8% of d; central differences at ε = 1e-3 (‖εz‖ ≈ 0.03) add an O(ε²) bias far below that.
    expect(Math.abs(quality.dimensionFactor.mean - theory)).toBeLessThan(5 * quality.dimensionFactor.standardError);
  });

  it("LOZO's U Vᵀ (with the paper's 1/r) matches lozoDimensionFactor on a single matrix within 5 SE, and is unbiased", async () => {
    const engine = new Engine(new CpuBackend());
    const workload = await createBlobsWorkload({ task: 'synthetic-blobs', model: 'linear', taskOptions: { classes: 5, features: 7 }, seed: 0, engine });
    workload.params.get('head.bias').trainable = false; // leave one 5×7 matrix
    const problem = await modelProblem(workloadObjective(workload, Array.from({ length: 32 }, (_, i) => i)));
    const g = await problem.gradient(problem.start());
    const sampler = estimatorSampler(createEstimator('lozo', { rank: 2 }), problem, { seed: 9 });
    const theory = sampler.theory(g)!;
    expect(theory).toBeCloseTo(lozoDimensionFactor(5, 7, 2), 9);
    const draws = 3000;
    const quality = await estimatorQuality(sampler.sample, g, { draws });
    sampler.dispose();
    // ‖ĝ‖² is a degree-8 polynomial in Gaussians (heavy-tailed), so the sample SE itself is noisy;
    // 3,000 draws keep it within ~10% of the true SE, and 5 SE leaves room for that.
    expect(Math.abs(quality.dimensionFactor.mean - theory)).toBeLessThan(5 * quality.dimensionFactor.standardError);
    // Unbiased: E‖mean − g‖²/‖g‖² = (F − 1)/N; Markov puts the realised value above 5× that with probability ≤ 0.2 (fixed seed).
    const last = quality.convergence[quality.convergence.length - 1]!;
    expect(last.relativeError ** 2).toBeLessThan((5 * (theory - 1)) / draws);
    workload.dispose();
  });

  it('LOZO over a matrix plus a bias vector matches the combined per-tensor formula within 5 SE', async () => {
    const engine = new Engine(new CpuBackend());
    const workload = await createBlobsWorkload({ task: 'synthetic-blobs', model: 'linear', taskOptions: { classes: 4, features: 6 }, seed: 0, engine });
    const problem = await modelProblem(workloadObjective(workload, Array.from({ length: 32 }, (_, i) => i)));
    const g = await problem.gradient(problem.start());
    const sampler = estimatorSampler(createEstimator('lozo', { rank: 2 }), problem, { seed: 4 });
    const quality = await estimatorQuality(sampler.sample, g, { draws: 3000 });
    const theory = sampler.theory(g)!;
    sampler.dispose();
    expect(Math.abs(quality.dimensionFactor.mean - theory)).toBeLessThan(5 * quality.dimensionFactor.standardError);
    workload.dispose();
  });
});

describe('combinedDimensionFactor', () => {
  it('all-Gaussian tensors give d + 2 whatever the split of the gradient energy', () => {
    const terms = [3, 10, 1].map((size, k) => ({ noise: { kind: 'gaussian' as const, size }, gradientEnergy: [0.1, 5, 2][k]! }));
    expect(combinedDimensionFactor(terms)).toBeCloseTo(16, 12);
  });

  it('one low-rank matrix gives lozoDimensionFactor (paper 1/r) and r²× it without the 1/r', () => {
    const term = { noise: { kind: 'lowRank' as const, rows: 6, cols: 9, rank: 3 }, gradientEnergy: 2 };
    expect(combinedDimensionFactor([term])).toBeCloseTo(lozoDimensionFactor(6, 9, 3), 9);
    expect(combinedDimensionFactor([term], false)).toBeCloseTo(9 * lozoDimensionFactor(6, 9, 3), 9);
  });
});

describe('stochastic Lanczos quadrature', () => {
  it('a diagonal indefinite Hessian: tr(H), tr(H₊), tr(|H|) exact (Rademacher vᵀf(D)v = tr f(D), k = d nodes)', async () => {
    const eigenvalues = [5, 3, 1, 0.5, -0.25, -2];
    const problem = syncProblem(6, (t) => t.reduce((s, x, i) => s + (eigenvalues[i]! * x * x) / 2, 0), (t) => t.map((x, i) => eigenvalues[i]! * x));
    const result = await spectralTraces(problem, new Float64Array(6).fill(0.1), { probes: 3, iterations: 6, seed: 1 });
    // central-difference HVPs of a quadratic are exact up to rounding; 1e-6 is a wide margin
    expect(result.trace.mean).toBeCloseTo(7.25, 6);
    expect(result.positiveTrace.mean).toBeCloseTo(9.5, 6);
    expect(result.absoluteTrace.mean).toBeCloseTo(11.75, 6);
    expect(result.largestRitz).toBeCloseTo(5, 6);
  });

  it('a rotated indefinite quadratic: tr(H₊) within 5 SE of the truth', async () => {
    const eigenvalues = [8, 4, 2, 1, 1, 0.5, -0.5, -1, -3, -6];
    const problem = buildQuadratic(eigenvalues, 17);
    const result = await spectralTraces(problem, new Float64Array(10), { probes: 40, iterations: 10, seed: 2 });
    // with k = d the quadrature is exact per probe, so only the probe average's CLT error remains
    expect(Math.abs(result.positiveTrace.mean - 16.5)).toBeLessThan(5 * result.positiveTrace.standardError + 1e-9);
    expect(Math.abs(result.trace.mean - 6)).toBeLessThan(5 * result.trace.standardError + 1e-9);
  });
});
