/**
 * The oracle itself, checked against float64 formulas written out directly: matmul against the
 * naive triple loop, and the backward ops against central finite differences of float64 forward
 * functions. The cpu backend stores f32, so each comparison allows the f32 rounding of the result
 * (u = 2⁻²⁴ relative), stated per test.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { CpuBackend, gelu } from '../../src/kernels/cpu.ts';
import { dim, rng, U32, uniform } from './helpers.ts';

const cpu = new CpuBackend();
const read = (buffer: ReturnType<CpuBackend['alloc']>): Float32Array => cpu.readSync(buffer);

/** Central difference of f at x along every coordinate, step h (truncation error O(h²)). */
function numericGradient(f: (x: Float64Array) => number, x: Float64Array, h = 1e-5): Float64Array {
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const saved = x[i]!;
    x[i] = saved + h;
    const up = f(x);
    x[i] = saved - h;
    const down = f(x);
    x[i] = saved;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

/**
 * f32 gradients from f32-rounded inputs vs float64 finite differences: inputs and intermediates
 * carry relative error ~u each through ≲ 4·cols operations, and the difference quotient adds
 * O(h²) + O(ε₆₄/h) ≈ 1e-10. Bound: 8·cols·u·κ·(max|g| + 1) + 1e-8, where κ is the op's
 * amplification of input rounding (layer norm: rstd·max|x|, since x − μ is rounded before ·rstd).
 */
function expectGradient(label: string, got: ArrayLike<number>, want: Float64Array, cols: number, conditioning = 1): void {
  let max = 0;
  for (const v of want) max = Math.max(max, Math.abs(v));
  const bound = 8 * cols * U32 * conditioning * (max + 1) + 1e-8;
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= bound)) throw new Error(`${label}[${i}]: ${got[i]} vs finite difference ${want[i]} (bound ${bound})`);
  }
}

describe('cpu backend against float64 reference formulas', () => {
  test('matmul equals the naive triple loop, rounded once to f32', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }), dim(24), dim(24), dim(24), fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 1e9 }),
      (batch, m, n, k, transA, transB, accumulate, seed) => {
        const random = rng(seed);
        const a = uniform(random, batch * m * k);
        const b = uniform(random, batch * k * n);
        const c0 = uniform(random, batch * m * n);
        const out = cpu.upload(c0);
        const alpha = 0.75;
        cpu.matmul(cpu.upload(a), cpu.upload(b), out, { batch, m, n, k, transA, transB, alpha, accumulate });
        const got = read(out);
        for (let p = 0; p < batch; p++) {
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              let sum = 0;
              for (let t = 0; t < k; t++) {
                const av = transA ? a[p * m * k + t * m + i]! : a[p * m * k + i * k + t]!;
                const bv = transB ? b[p * k * n + j * k + t]! : b[p * k * n + t * n + j]!;
                sum += av * bv;
              }
              const index = p * m * n + i * n + j;
              const want = (accumulate ? c0[index]! : 0) + alpha * sum;
              // f64 sums in a different order differ by ≤ k·ε₆₄·Σ|ab| (negligible); the f32 store rounds by ≤ u|want|
              expect(Math.abs(got[index]! - want)).toBeLessThanOrEqual(U32 * Math.abs(want) + 1e-12 * k);
            }
          }
        }
      }), { seed: 401, numRuns: 40 });
  });

  test('layerNormBackward matches finite differences of Σ w ⊙ LN(x)', () => {
    fc.assert(fc.property(dim(5), dim(13), fc.integer({ min: 0, max: 1e9 }), (rows, cols, seed) => {
      const random = rng(seed);
      const x = uniform(random, rows * cols, -2, 2);
      const gamma = uniform(random, cols, 0.5, 1.5);
      const beta = uniform(random, cols);
      const w = uniform(random, rows * cols);
      const eps = 1e-5;
      const loss = (xs: Float64Array, gs: Float64Array, bs: Float64Array): number => {
        let total = 0;
        for (let r = 0; r < rows; r++) {
          let mu = 0;
          for (let c = 0; c < cols; c++) mu += xs[r * cols + c]!;
          mu /= cols;
          let variance = 0;
          for (let c = 0; c < cols; c++) variance += (xs[r * cols + c]! - mu) ** 2;
          const rstd = 1 / Math.sqrt(variance / cols + eps);
          for (let c = 0; c < cols; c++) total += w[r * cols + c]! * ((xs[r * cols + c]! - mu) * rstd * gs[c]! + bs[c]!);
        }
        return total;
      };
      const x64 = Float64Array.from(x);
      const g64 = Float64Array.from(gamma);
      const b64 = Float64Array.from(beta);
      const spec = { rows, cols, eps };
      const X = cpu.upload(x);
      const G = cpu.upload(gamma);
      const mean = cpu.alloc(rows);
      const rstd = cpu.alloc(rows);
      cpu.layerNorm(X, G, cpu.upload(beta), cpu.alloc(rows * cols), spec, mean, rstd);
      const dx = cpu.alloc(rows * cols);
      const dGamma = cpu.alloc(cols);
      const dBeta = cpu.alloc(cols);
      cpu.layerNormBackward(X, G, mean, rstd, cpu.upload(w), dx, dGamma, dBeta, spec);
      let kappa = 1;
      for (let r = 0; r < rows; r++) kappa = Math.max(kappa, read(rstd)[r]! * 2);
      expectGradient('dx', read(dx), numericGradient((v) => loss(v, g64, b64), x64), cols, kappa);
      expectGradient('dγ', read(dGamma), numericGradient((v) => loss(x64, v, b64), g64), cols * rows, kappa);
      expectGradient('dβ', read(dBeta), numericGradient((v) => loss(x64, g64, v), b64), cols * rows, kappa);
    }), { seed: 402, numRuns: 20 });
  });

  test('softmaxBackward matches finite differences of Σ w ⊙ softmax(αx)', () => {
    fc.assert(fc.property(dim(4), dim(11), fc.constantFrom(1, 0.5, 2), fc.integer({ min: 0, max: 1e9 }), (rows, cols, alpha, seed) => {
      const random = rng(seed);
      const x = uniform(random, rows * cols, -2, 2);
      const w = uniform(random, rows * cols);
      const loss = (xs: Float64Array): number => {
        let total = 0;
        for (let r = 0; r < rows; r++) {
          let max = -Infinity;
          for (let c = 0; c < cols; c++) max = Math.max(max, alpha * xs[r * cols + c]!);
          let sum = 0;
          for (let c = 0; c < cols; c++) sum += Math.exp(alpha * xs[r * cols + c]! - max);
          for (let c = 0; c < cols; c++) total += (w[r * cols + c]! * Math.exp(alpha * xs[r * cols + c]! - max)) / sum;
        }
        return total;
      };
      const y = cpu.alloc(rows * cols);
      cpu.softmax(cpu.upload(x), y, rows, cols, alpha);
      const dx = cpu.alloc(rows * cols);
      cpu.softmaxBackward(y, cpu.upload(w), dx, rows, cols, alpha);
      expectGradient('dx', read(dx), numericGradient(loss, Float64Array.from(x)), cols);
    }), { seed: 403, numRuns: 20 });
  });

  test('crossEntropy losses and dLogits match log-sum-exp and its finite differences', () => {
    fc.assert(fc.property(dim(5), dim(9), fc.integer({ min: 0, max: 1e9 }), (rows, cols, seed) => {
      const random = rng(seed);
      const logits = uniform(random, rows * cols, -3, 3);
      const targets = Int32Array.from({ length: rows }, (_, r) => (r === 0 && rows > 1 ? -1 : Math.floor(random() * cols)));
      const rowLoss = (xs: Float64Array, r: number): number => {
        if (targets[r]! < 0) return 0;
        let sum = 0;
        for (let c = 0; c < cols; c++) sum += Math.exp(xs[r * cols + c]!);
        return Math.log(sum) - xs[r * cols + targets[r]!]!;
      };
      const losses = cpu.alloc(rows);
      const d = cpu.alloc(rows * cols);
      const scale = 0.5;
      cpu.crossEntropy(cpu.upload(logits), targets, losses, rows, cols, d, scale);
      const x64 = Float64Array.from(logits);
      const got = read(losses);
      for (let r = 0; r < rows; r++) expect(Math.abs(got[r]! - rowLoss(x64, r))).toBeLessThanOrEqual(4 * cols * U32 * (Math.abs(rowLoss(x64, r)) + 3));
      const total = (xs: Float64Array): number => {
        let t = 0;
        for (let r = 0; r < rows; r++) t += scale * rowLoss(xs, r);
        return t;
      };
      expectGradient('dLogits', read(d), numericGradient(total, x64), cols);
    }), { seed: 404, numRuns: 20 });
  });

  test('geluBackward matches the finite difference of the tanh GELU', () => {
    const x = uniform(rng(405), 200, -4, 4);
    const dx = cpu.alloc(200);
    cpu.geluBackward(cpu.upload(x), cpu.upload(new Float32Array(200).fill(1)), dx);
    const want = Float64Array.from(x, (v) => (gelu(v + 1e-5) - gelu(v - 1e-5)) / 2e-5);
    expectGradient('gelu′', read(dx), want, 4);
  });

  test('adamStep follows the bias-corrected AdamW formula', () => {
    const spec = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step: 3 };
    const p = Float32Array.of(0.5, -1, 2);
    const g = Float32Array.of(0.1, -0.2, 0);
    const m = Float32Array.of(0.01, 0, -0.05);
    const v = Float32Array.of(0.001, 0.002, 0.0001);
    const P = cpu.upload(p);
    cpu.adamStep(P, cpu.upload(g), cpu.upload(m), cpu.upload(v), spec);
    const got = read(P);
    for (let i = 0; i < 3; i++) {
      const mi = 0.9 * m[i]! + 0.1 * g[i]!;
      const vi = 0.999 * v[i]! + 0.001 * g[i]! * g[i]!;
      const step = (spec.lr * Math.sqrt(1 - 0.999 ** 3)) / (1 - 0.9 ** 3);
      let want = p[i]! - (step * mi) / (Math.sqrt(vi) + spec.eps);
      want -= spec.lr * spec.weightDecay * want;
      // m and v are stored in f32 between the two formulas: relative error ≈ 4u on an O(1) result
      expect(Math.abs(got[i]! - want)).toBeLessThanOrEqual(8 * U32 * (Math.abs(want) + 1));
    }
  });
});
