/**
 * AdaLomo (arXiv:2310.10195): the factored second moment, the grouped update normalization, the
 * fused per-layer update against an unfused float64 reference, its ledger (no gradient buffer), and
 * a short run from checkpoints/tiny at the default lr. Property tests use fixed seeds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import '../../../src/experiment/builtins.ts';
import { parseRunConfig } from '../../../src/experiment/config.ts';
import { readMetrics } from '../../../src/experiment/results.ts';
import { runExperiment } from '../../../src/experiment/runner.ts';
import { perLayerStep } from '../../../src/galore/layerwise.ts';
import { createOptimizer } from '../../../src/galore/index.ts';
import type { RuleOptimizer } from '../../../src/galore/ruleOptimizer.ts';
import { createModel } from '../../../src/nn/factory.ts';
import { disposeGrads, valueAndGrad } from '../../../src/nn/tape.ts';
import type { Param } from '../../../src/tensor/params.ts';
import { rng } from '../../kernels/helpers.ts';
import { gaussian, makeEngine, makeStore, maxAbsDiff } from '../helpers.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-adalomo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** AdaLomo's statistics of one tensor, as the rule keeps them. */
interface Statistics {
  rowStats: Float32Array | null;
  colStats: Float32Array | null;
  second: Float32Array | null;
}

const statisticsOf = (optimizer: RuleOptimizer, param: Param): Statistics => optimizer.stateOf(param)!.rule as Statistics;

const rms = (values: ArrayLike<number>): number => Math.sqrt(Array.from(values).reduce((s, x) => s + x * x, 0) / values.length);

/** One AdaLomo update of a single m×n parameter from gradient g; returns the optimizer. */
async function oneUpdate(theta: Float32Array, g: Float32Array, m: number, n: number, options = {}): Promise<{ optimizer: RuleOptimizer; param: Param }> {
  const store = makeStore();
  const param = store.add('mlp.w', 'mlp', [m, n], theta);
  const optimizer = createOptimizer('adalomo', store, { lr: 1e-2, ...options }) as RuleOptimizer;
  await optimizer.stepParam(param, store.engine.fromArray(g, [m, n], 'gradient'));
  return { optimizer, param };
}

const shape = fc.record({ m: fc.integer({ min: 2, max: 9 }), n: fc.integer({ min: 2, max: 9 }), seed: fc.integer({ min: 1, max: 10_000 }) });

describe('AdaLomo: factored second moment (§3.2)', () => {
  // At t = 1, β2,1 = 1 − 1^(−0.8) = 0: R = rowmean(Q), C = colmean(Q) with Q = G² + ε1, and
  // V̂ = R Cᵀ / mean(R). R and C are stored in float32 (relative error ≤ 2⁻²⁴ each) and V̂ multiplies
  // three of them: relative error ≤ 4·2⁻²⁴ ≈ 2.4e-7, so 1e-6 relative is a safe bound.
  test.prop([shape], { seed: 11, numRuns: 40 })('V̂ keeps the row and column sums of G² + ε1 (the I-divergence rank-1 fit)', async ({ m, n, seed }) => {
    const g = Float32Array.from(gaussian(seed, m * n, 3));
    const { optimizer, param } = await oneUpdate(Float32Array.from(gaussian(seed + 1, m * n)), g, m, n);
    const { rowStats, colStats } = statisticsOf(optimizer, param);
    const meanR = rowStats!.reduce((s, x) => s + x, 0) / m;
    const vHat = (i: number, j: number): number => (rowStats![i]! * colStats![j]!) / meanR;
    const q = (i: number, j: number): number => g[i * n + j]! ** 2 + 1e-30;
    for (let i = 0; i < m; i++) {
      let fitted = 0;
      let exact = 0;
      for (let j = 0; j < n; j++) {
        fitted += vHat(i, j);
        exact += q(i, j);
      }
      expect(Math.abs(fitted - exact)).toBeLessThanOrEqual(1e-6 * exact);
    }
    for (let j = 0; j < n; j++) {
      let fitted = 0;
      let exact = 0;
      for (let i = 0; i < m; i++) {
        fitted += vHat(i, j);
        exact += q(i, j);
      }
      expect(Math.abs(fitted - exact)).toBeLessThanOrEqual(1e-6 * exact);
    }
  });

  test.prop([shape], { seed: 12, numRuns: 40 })('V̂ equals G² entry by entry when |G| is rank 1 (G_ij = a_i·b_j)', async ({ m, n, seed }) => {
    const a = gaussian(seed, m);
    const b = gaussian(seed + 7, n);
    const g = Float32Array.from({ length: m * n }, (_, k) => a[Math.floor(k / n)]! * b[k % n]!);
    const { optimizer, param } = await oneUpdate(Float32Array.from(gaussian(seed + 1, m * n)), g, m, n);
    const { rowStats, colStats } = statisticsOf(optimizer, param);
    const meanR = rowStats!.reduce((s, x) => s + x, 0) / m;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const exact = g[i * n + j]! ** 2 + 1e-30;
        expect(Math.abs((rowStats![i]! * colStats![j]!) / meanR - exact)).toBeLessThanOrEqual(1e-6 * exact);
      }
    }
  });
});

describe('AdaLomo: grouped update normalization (§3.3)', () => {
  // Û = U / max(1, RMS(U)) has RMS ≤ d = 1, and the move is η_t·Û with η_t = η·max(ε2, RMS(θ)), so
  // RMS(Δθ) ≤ η_t whatever the gradient's scale (float32 storage of θ: relative 2⁻²³ slack per entry).
  test.prop([shape, fc.constantFrom(1e-6, 1, 1e6)], { seed: 13, numRuns: 40 })('RMS(Δθ) ≤ η·max(ε2, RMS(θ)) for any gradient scale', async ({ m, n, seed }, scale) => {
    const theta = Float32Array.from(gaussian(seed, m * n, 0.5));
    const g = Float32Array.from(gaussian(seed + 3, m * n, scale));
    const lr = 1e-2;
    const { param } = await oneUpdate(theta, g, m, n, { lr });
    const delta = param.tensor.readSync().map((x, i) => x - theta[i]!);
    const stepSize = lr * Math.max(1e-3, rms(theta));
    expect(rms(delta)).toBeLessThanOrEqual(stepSize * (1 + 1e-5) + 2 ** -23 * rms(theta));
  });

  test.prop([shape], { seed: 14, numRuns: 30 })('the update is invariant to the gradient\'s scale (V̂ scales with G²)', async ({ m, n, seed }) => {
    const theta = Float32Array.from(gaussian(seed, m * n, 0.5));
    const g = gaussian(seed + 5, m * n);
    const small = (await oneUpdate(theta, Float32Array.from(g), m, n)).param.tensor.readSync();
    const large = (await oneUpdate(theta, Float32Array.from(g, (x) => 1024 * x), m, n)).param.tensor.readSync();
    // 1024 = 2¹⁰ scales G exactly in float32; ε1 = 1e-30 is below float32's resolution of these G²
    expect(maxAbsDiff(small, large)).toBeLessThanOrEqual(2 ** -22 * Math.max(...theta.map(Math.abs)));
  });
});

describe('AdaLomo: fused backward', () => {
  const SHAPE = { vocab: 40, dModel: 32, dFf: 64, seq: 8, heads: 2, layers: 2 };

  function batchOf(seed: number) {
    const random = rng(seed);
    const ids = Int32Array.from({ length: 32 }, () => Math.floor(random() * 40));
    return { ids, targets: Int32Array.from(ids, (x) => (x * 5 + 2) % 40), batch: 4, seq: 8 };
  }

  /** The paper's Algorithm 1 in float64, on host arrays: one update of θ from g; `stats` is updated in place. */
  function referenceUpdate(theta: Float64Array, g: Float32Array, shape: readonly number[], stats: { r?: Float64Array; c?: Float64Array; v?: Float64Array }, t: number, lr: number, weightDecay: number): Float64Array {
    const beta2 = 1 - t ** -0.8;
    const q = Float64Array.from(g, (x) => x * x + 1e-30);
    const u = new Float64Array(g.length);
    if (shape.length === 2) {
      const [m, n] = shape as [number, number];
      stats.r ??= new Float64Array(m);
      stats.c ??= new Float64Array(n);
      for (let i = 0; i < m; i++) {
        let mean = 0;
        for (let j = 0; j < n; j++) mean += q[i * n + j]! / n;
        stats.r[i] = beta2 * stats.r[i]! + (1 - beta2) * mean;
      }
      for (let j = 0; j < n; j++) {
        let mean = 0;
        for (let i = 0; i < m; i++) mean += q[i * n + j]! / m;
        stats.c[j] = beta2 * stats.c[j]! + (1 - beta2) * mean;
      }
      const meanR = stats.r.reduce((s, x) => s + x, 0) / m;
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) u[i * n + j] = g[i * n + j]! / Math.sqrt((stats.r[i]! * stats.c[j]!) / meanR);
    } else {
      stats.v ??= new Float64Array(g.length);
      for (let k = 0; k < g.length; k++) {
        stats.v[k] = beta2 * stats.v[k]! + (1 - beta2) * q[k]!;
        u[k] = g[k]! / Math.sqrt(stats.v[k]!);
      }
    }
    const normalized = Math.max(1, rms(u));
    const stepSize = lr * Math.max(1e-3, rms(theta));
    return theta.map((x, k) => (1 - stepSize * weightDecay) * x - (stepSize * u[k]!) / normalized);
  }

  it('updating each parameter inside backward equals the unfused float64 update, step by step', async () => {
    const lr = 1e-2;
    const weightDecay = 0.1;
    const fused = createModel(makeEngine(), { kind: 'causal-lm', preset: 'tiny', overrides: SHAPE, seed: 3 });
    const unfused = createModel(makeEngine(), { kind: 'causal-lm', preset: 'tiny', overrides: SHAPE, seed: 3 });
    const optimizer = createOptimizer('adalomo', fused.params, { lr, weightDecay });
    const stats = new Map<string, { r?: Float64Array; c?: Float64Array; v?: Float64Array }>();
    for (let step = 1; step <= 3; step++) {
      const batch = batchOf(step);
      // the reference starts each step from the fused run's parameters and takes all gradients first
      unfused.params.load(await fused.params.snapshot());
      const { grads } = await valueAndGrad(unfused.params, () => unfused.lossTensor(batch));
      const expected = new Map<string, Float64Array>();
      for (const [param, grad] of grads) {
        const own = stats.get(param.name) ?? {};
        stats.set(param.name, own);
        expected.set(param.name, referenceUpdate(Float64Array.from(param.tensor.readSync()), grad.readSync(), param.tensor.shape, own, step, lr, weightDecay));
      }
      disposeGrads(grads);
      await perLayerStep(fused.params, optimizer, () => fused.lossTensor(batch));
      for (const param of fused.params.all()) {
        const want = expected.get(param.name)!;
        const got = param.tensor.readSync();
        const moved = Math.max(...want.map((x, k) => Math.abs(x - unfused.params.get(param.name).tensor.readSync()[k]!)));
        // float32: θ is rounded twice per update (decay, move) — 2⁻²³·max|θ| — and the statistics are
        // stored in float32, which moves the normalized update by ~1e-6 of its size: 1e-5·max|Δθ| bounds it
        expect(maxAbsDiff(got, want), `${param.name} at step ${step}`).toBeLessThanOrEqual(2 ** -22 * Math.max(...want.map(Math.abs)) + 1e-5 * moved);
      }
    }
  });

  it('holds no gradient buffer: the ledger\'s gradient peak is the gradients in flight, not the model\'s', async () => {
    const engine = makeEngine();
    const model = createModel(engine, { kind: 'encoder-classifier', preset: 'tiny', overrides: SHAPE, seed: 1 });
    const optimizer = createOptimizer('adalomo', model.params, { lr: 1e-2 });
    const batch = { ...batchOf(9), labels: Int32Array.of(0, 1, 1, 0) };
    engine.ledger.resetPeaks();
    await perLayerStep(model.params, optimizer, () => model.lossTensor(batch));
    // a Linear's backward returns dW and db together: the peak is the largest Linear's, about one parameter's
    const largestLinear = Math.max(...[...model.linears().values()].map((l) => 4 * (l.weight.tensor.size + (l.bias?.tensor.size ?? 0))));
    expect(engine.ledger.peakBytes('gradient')).toBe(largestLinear);
    // state: rows + cols per matrix, every element of each vector
    const stateBytes = model.params.all().reduce((n, p) => n + 4 * (p.tensor.rank === 2 ? p.tensor.shape[0]! + p.tensor.shape[1]! : p.tensor.size), 0);
    expect(optimizer.stateBytes()).toBe(stateBytes);
  });

  it('from checkpoints/tiny at its default lr, lowers the training loss and halves the validation loss of the e-mail task in 5 steps', async () => {
    // the checkpoint calls every e-mail spam (validation loss ≈ 2.1 nats); AdamW halves it in 5 steps too
    const config = parseRunConfig({
      method: 'adalomo', task: 'spam', model: 'tiny', steps: 5, evalInterval: 5, evalSize: 64,
      checkpointEvery: 0, saveWeights: false, seed: 0, out: join(root, 'adalomo'),
    });
    const { dir, summary } = await runExperiment(config);
    const evaluated = readMetrics(dir).filter((line) => line.eval !== undefined);
    expect(evaluated.at(-1)!.eval!.loss).toBeLessThan(evaluated[0]!.eval!.loss / 2);
    // training losses are of different batches: compare the means of the first and last two
    const trainLosses = readMetrics(dir).flatMap((line) => (line.trainLoss === null ? [] : [line.trainLoss]));
    const mean = (values: number[]): number => values.reduce((s, x) => s + x, 0) / values.length;
    expect(mean(trainLosses.slice(-2))).toBeLessThan(mean(trainLosses.slice(0, 2)));
    expect(summary.status).toBe('completed');
  }, 600_000);
});
