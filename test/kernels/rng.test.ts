/**
 * The counter RNG (src/kernels/rng.ts, Threefry-2x32-20): known-answer vectors, identical bits on
 * every backend and for every chunking, and the distribution of the normals. Statistical bounds are
 * 5 standard errors (two-sided false-alarm rate ≈ 6e-7 per check), at a fixed seed, so the test is
 * deterministic; the comments derive each standard error.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Backend } from '../../src/kernels/backend.ts';
import { fillNormalHost, randomBitsHost } from '../../src/kernels/gpu/noise.ts';
import { fillNormals, randomBitsAt, threefry2x32 } from '../../src/kernels/index.ts';
import { correlation, open, targets } from './helpers.ts';

describe('Threefry-2x32-20 known answers (Random123 kat_vectors)', () => {
  const vectors: [number[], number[], number[]][] = [
    [[0, 0], [0, 0], [0x6b200159, 0x99ba4efe]],
    [[0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x1cb996fc, 0xbb002be7]],
    [[0x243f6a88, 0x85a308d3], [0x13198a2e, 0x03707344], [0xc4923a9c, 0x483df7a0]],
  ];
  test.each(vectors)('ctr %j key %j', (ctr, key, expected) => {
    const out = new Uint32Array(2);
    threefry2x32(ctr[0]!, ctr[1]!, key[0]!, key[1]!, out);
    expect([...out]).toEqual(expected);
  });

  test('the gpu backend\'s inlined generator gives the zero-key vector and matches rng.ts everywhere', () => {
    expect([...randomBitsHost(0, 0, 0, 2)]).toEqual([0x6b200159, 0x99ba4efe]);
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 40 }), (seed, stream, index) => {
      expect(randomBitsHost(seed, stream, index, 1)[0]).toBe(randomBitsAt(seed, stream, index));
    }), { seed: 201, numRuns: 300 });
  });
});

describe('same bits on every backend and for every chunking', () => {
  for (const target of targets()) {
    describe(target.label, () => {
      let backend: Backend;
      beforeAll(async () => {
        backend = await open(target);
      });
      afterAll(() => backend.dispose());

      test('randomBits: one call equals any split into chunks at any offsets', async () => {
        await fc.assert(fc.asyncProperty(
          fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.array(fc.integer({ min: 1, max: 37 }), { minLength: 1, maxLength: 6 }),
          async (seed, stream, chunks) => {
            const total = chunks.reduce((a, b) => a + b, 0);
            const start = 11;
            const whole = await backend.randomBits(seed, stream, start, total);
            const reference = Uint32Array.from({ length: total }, (_, j) => randomBitsAt(seed, stream, start + j));
            expect(whole).toEqual(reference);
            let offset = start;
            for (const size of chunks) {
              expect(await backend.randomBits(seed, stream, offset, size)).toEqual(reference.subarray(offset - start, offset - start + size));
              offset += size;
            }
          }), { seed: 202, numRuns: 15 });
      });

      test('fillNormal: chunks at odd and even offsets reproduce one fill bitwise', async () => {
        const total = 101;
        const whole = backend.alloc(total);
        backend.fillNormal(whole, 12345, 3, 0);
        const expected = await backend.read(whole);
        const got = new Float32Array(total);
        for (const [from, to] of [[0, 1], [1, 4], [4, 37], [37, 38], [38, 101]] as const) {
          const part = backend.alloc(to - from);
          backend.fillNormal(part, 12345, 3, from);
          got.set(await backend.read(part), from);
        }
        expect(got).toEqual(expected);
        const reference = new Float32Array(total);
        fillNormals(reference, 12345, 3);
        // uniform bits are identical; normals agree to f32 rounding of log/cos/sin (≤ 1e-6 absolute for |z| < 6)
        for (let i = 0; i < total; i++) expect(Math.abs(expected[i]! - reference[i]!)).toBeLessThan(1e-6);
      });
    });
  }
});

describe('distribution of the normals', () => {
  const n = 1 << 18;
  const z = new Float64Array(n);
  fillNormals(z, 20240601, 0);

  test('mean 0, variance 1, kurtosis 3 within 5 standard errors', () => {
    let sum = 0;
    for (const v of z) sum += v;
    const mean = sum / n;
    let m2 = 0;
    let m4 = 0;
    for (const v of z) {
      const d = v - mean;
      m2 += d * d;
      m4 += d * d * d * d;
    }
    const variance = m2 / n;
    const kurtosis = m4 / n / (variance * variance);
    // For N(0,1): SE(mean) = 1/√n, SE(variance) = √(2/n) (Var of z² is 2), SE(kurtosis) ≈ √(24/n).
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(kurtosis - 3)).toBeLessThan(5 * Math.sqrt(24 / n));
  });

  test('Kolmogorov–Smirnov against Φ at a fixed seed', () => {
    const sorted = Float64Array.from(z).sort();
    let d = 0;
    for (let i = 0; i < n; i++) {
      const cdf = normalCdf(sorted[i]!);
      d = Math.max(d, (i + 1) / n - cdf, cdf - i / n);
    }
    // Asymptotic KS critical value at α = 0.001 is 1.949/√n; Φ below is accurate to 1.5e-7, far under it.
    expect(d).toBeLessThan(1.949 / Math.sqrt(n));
  });

  test('different keys are uncorrelated', () => {
    const m = 1 << 16;
    const streams: [number, number][] = [
      [7, 0], [7, 1], [7, 2], [7, 3], [8, 0],
    ];
    const samples = streams.map(([seed, stream]) => {
      const out = new Float64Array(m);
      fillNormals(out, seed, stream);
      return out;
    });
    // Under independence the sample correlation has SE ≈ 1/√m; bound 5/√m.
    for (let i = 0; i < samples.length; i++) {
      for (let j = i + 1; j < samples.length; j++) {
        expect(Math.abs(correlation(samples[i]!, samples[j]!))).toBeLessThan(5 / Math.sqrt(m));
      }
    }
    // and neighbouring elements of one stream (the cos/sin pair of one Box–Muller block) are uncorrelated too
    const even = samples[0]!.filter((_, i) => i % 2 === 0);
    const odd = samples[0]!.filter((_, i) => i % 2 === 1);
    expect(Math.abs(correlation(even, odd))).toBeLessThan(5 / Math.sqrt(m / 2));
  });

  test('the gpu backend\'s host fill equals rng.ts bitwise after f32 rounding', () => {
    const ours = new Float32Array(999);
    fillNormalHost(ours, 99, 5, 3);
    const reference = new Float64Array(999);
    fillNormals(reference, 99, 5, 3);
    expect(ours).toEqual(Float32Array.from(reference));
  });
});

/** Φ(x) via erfc, Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7). */
function normalCdf(x: number): number {
  const t = Math.abs(x) / Math.SQRT2;
  const k = 1 / (1 + 0.3275911 * t);
  const poly = k * (0.254829592 + k * (-0.284496736 + k * (1.421413741 + k * (-1.453152027 + k * 1.061405429))));
  const erfc = poly * Math.exp(-t * t);
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}
