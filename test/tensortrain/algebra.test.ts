import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { ShapeError } from '../../src/errors.ts';
import { add, frobenius, hadamard, inner, norm, randomTT, relativeDifference, scale, ttParamCount, ttTensor, ttToFull } from '../../src/tensortrain/index.ts';
import { seedArb, smallShape, uniformFrom } from './helpers.ts';

const RUNS = { seed: 20261124, numRuns: 40 };
const rankArb = fc.integer({ min: 1, max: 3 });

describe('TT algebra without the full tensor (spec §3.7)', () => {
  test.prop([smallShape, rankArb, rankArb, seedArb], RUNS)('inner product, norm, sum, scale and Hadamard product equal the dense ones', (shape, rx, ry, seed) => {
    const x = randomTT(shape, rx, uniformFrom(seed));
    const y = randomTT(shape, ry, uniformFrom(seed + 7));
    const fx = ttToFull(x).data;
    const fy = ttToFull(y).data;
    let dot = 0;
    fx.forEach((v, i) => (dot += v * fy[i]!));
    // Sweeps reorder the same sums: relative rounding ~d·r·1e−16, checked at 1e−12 of the scale.
    expect(Math.abs(inner(x, y) - dot)).toBeLessThan(1e-12 * frobenius(fx) * frobenius(fy));
    expect(Math.abs(norm(x) - frobenius(fx))).toBeLessThan(1e-12 * frobenius(fx));
    expect(relativeDifference(ttToFull(add(x, y)).data, fx.map((v, i) => v + fy[i]!))).toBeLessThan(1e-12);
    expect(relativeDifference(ttToFull(scale(x, -2.5)).data, fx.map((v) => -2.5 * v))).toBeLessThan(1e-14);
    const product = hadamard(x, y);
    expect(product.ranks.slice(1, -1)).toEqual(x.ranks.slice(1, -1).map((r, k) => r * y.ranks[k + 1]!));
    expect(relativeDifference(ttToFull(product).data, fx.map((v, i) => v * fy[i]!))).toBeLessThan(1e-12);
  });

  test('parameter count is Σ r_{k−1} n_k r_k (spec §3.6)', () => {
    const x = randomTT([4, 5, 6], [1, 2, 3, 1], uniformFrom(1));
    expect(ttParamCount(x.shape, x.ranks)).toBe(1 * 4 * 2 + 2 * 5 * 3 + 3 * 6 * 1);
    expect(x.cores.reduce((n, c) => n + c.data.length, 0)).toBe(ttParamCount(x.shape, x.ranks));
  });

  test('mismatched cores and shapes are rejected with the numbers', () => {
    const core = (l: number, n: number, r: number) => ({ shape: [l, n, r] as const, data: new Float64Array(l * n * r) });
    expect(() => ttTensor([core(1, 3, 2), core(3, 4, 1)], 'W')).toThrow(/W\.cores\[1\] has left rank 3 but cores\[0\] has right rank 2/);
    expect(() => ttTensor([core(2, 3, 1)], 'W')).toThrow(/boundary TT ranks must be 1, got r_0 = 2/);
    expect(() => ttTensor([{ shape: [1, 3, 1], data: new Float64Array(2) }])).toThrow(ShapeError);
    expect(() => add(randomTT([2, 3], 1, uniformFrom(1)), randomTT([3, 2], 1, uniformFrom(2)))).toThrow(/add: TT shapes \[2, 3\] and \[3, 2\] differ/);
  });
});
