import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { ShapeError } from '../../src/errors.ts';
import {
  matmul64, type Matrix64, product, randomTTMatrix, relativeDifference, transpose64, ttMatmulCost, ttMatrixFromDense, ttMatrixParamCount,
  ttMatrixTimesBatch, ttMatrixToDense,
} from '../../src/tensortrain/index.ts';
import { gaussianTensor, seedArb, uniformFrom } from './helpers.ts';

const RUNS = { seed: 20261124, numRuns: 40 };

/** d = 1..3 pairs (m_k, n_k) of sizes 1..5, so m_k ≠ n_k and m_k = 1 or n_k = 1 all occur. */
const modesArb = fc.array(fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 3 });

function batchMatrix(rows: number, cols: number, seed: number): Matrix64 {
  return { rows, cols, data: gaussianTensor([rows, cols], seed).data };
}

describe('TT-matrices (spec §2.5–2.6)', () => {
  test.prop([modesArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), seedArb], RUNS)(
    'TT-matrix × batch equals the dense product, in both sweep orders (spec §3.8)',
    (pairs, rank, batch, seed) => {
      const rowModes = pairs.map(([m]) => m);
      const colModes = pairs.map(([, n]) => n);
      const w = randomTTMatrix(rowModes, colModes, rank, uniformFrom(seed));
      const x = batchMatrix(batch, product(colModes), seed + 1);
      const dense = ttMatrixToDense(w);
      const expected = matmul64(x, transpose64(dense));
      const y = ttMatrixTimesBatch(w, x);
      expect([y.rows, y.cols]).toEqual([batch, product(rowModes)]);
      // Same sums in a different order: ~1e−15 relative per term.
      expect(relativeDifference(y.data, expected.data)).toBeLessThan(1e-12);
      // The transposed operator exercises the other sweep whenever the cheaper order flips.
      const wt = { ...w, rowModes: colModes, colModes: rowModes, cores: w.cores.map((c) => transposeCore(c)) };
      const yt = ttMatrixTimesBatch(wt, batchMatrix(batch, product(rowModes), seed + 2));
      const expectedT = matmul64(batchMatrix(batch, product(rowModes), seed + 2), dense);
      expect(relativeDifference(yt.data, expectedT.data)).toBeLessThan(1e-12);
    },
  );

  test('the cost rule picks each sweep order for some shape, with hand-counted costs', () => {
    // m = (8, 2), n = (2, 8), rank 3, B = 5; every core costs m_k n_k r_{k−1} r_k = 48.
    const w = randomTTMatrix([8, 2], [2, 8], 3, uniformFrom(4));
    const cost = ttMatmulCost(w, 5);
    expect(cost.rightToLeft).toBe(5 * 1 * 2 * 48 + 5 * 2 * 1 * 48); // B·(∏_{l<k} n_l)(∏_{l>k} m_l)·48
    expect(cost.leftToRight).toBe(5 * 1 * 8 * 48 + 5 * 8 * 1 * 48); // B·(∏_{l<k} m_l)(∏_{l>k} n_l)·48
    expect(cost.dense).toBe(5 * 16 * 16);
    expect(cost.order).toBe('rightToLeft');
    const wt = { ...w, rowModes: [2, 8], colModes: [8, 2], cores: w.cores.map(transposeCore) };
    expect(ttMatmulCost(wt, 5).order).toBe('leftToRight');
  });

  test('dense → TT-matrix → dense is the identity at full rank (24×30, m = (2,3,4), n = (3,2,5); spec §3.9)', () => {
    const w = batchMatrix(24, 30, 5);
    const tt = ttMatrixFromDense(w, { rowModes: [2, 3, 4], colModes: [3, 2, 5] });
    expect(relativeDifference(ttMatrixToDense(tt).data, w.data)).toBeLessThan(1e-12);
    expect(tt.cores.map((c) => [c.shape[1], c.shape[2]])).toEqual([[2, 3], [3, 2], [4, 5]]);
    // Product with a batch through the TT matches the dense product too.
    const x = batchMatrix(3, 30, 6);
    expect(relativeDifference(ttMatrixTimesBatch(tt, x).data, matmul64(x, transpose64(w)).data)).toBeLessThan(1e-12);
  });

  test('a Kronecker product has TT-matrix ranks 1 (identity ⊗ identity); truncation with ε keeps the bound', () => {
    const eye = (n: number) => Float64Array.from({ length: n * n }, (_, i) => (Math.floor(i / n) === i % n ? 1 : 0));
    const tt = ttMatrixFromDense({ rows: 12, cols: 12, data: eye(12) }, { rowModes: [3, 4], colModes: [3, 4], relativeError: 1e-10 });
    expect(tt.ranks).toEqual([1, 1, 1]);
    const w = batchMatrix(24, 30, 8);
    for (const eps of [0.1, 0.5]) {
      const approx = ttMatrixFromDense(w, { rowModes: [2, 3, 4], colModes: [3, 2, 5], relativeError: eps });
      expect(relativeDifference(ttMatrixToDense(approx).data, w.data)).toBeLessThanOrEqual(eps + 1e-12);
    }
  });

  test('parameter count is Σ r_{k−1} m_k n_k r_k (spec §3.6)', () => {
    const w = randomTTMatrix([2, 3, 4], [3, 2, 5], [1, 2, 3, 1], uniformFrom(2));
    expect(ttMatrixParamCount(w)).toBe(1 * 2 * 3 * 2 + 2 * 3 * 2 * 3 + 3 * 4 * 5 * 1);
    expect(w.cores.reduce((n, c) => n + c.data.length, 0)).toBe(ttMatrixParamCount(w));
  });

  test('factorisations that do not multiply to the dimensions are rejected with the numbers', () => {
    const w = batchMatrix(24, 30, 1);
    expect(() => ttMatrixFromDense(w, { rowModes: [2, 3, 5], colModes: [3, 2, 5], name: 'mlp.fc1' })).toThrow(
      /mlp\.fc1: modes \[2·3·5\] × \[3·2·5\] = 30×30 do not factor the 24×30 matrix/,
    );
    expect(() => ttMatrixFromDense(w, { rowModes: [24], colModes: [3, 10] })).toThrow(/same number of cores/);
    expect(() => ttMatrixFromDense(w, { rowModes: [2, 12], colModes: [3, 10], relativeError: 0 })).toThrow(/relativeError/);
    expect(() => ttMatrixFromDense(w, { rowModes: [2, 12], colModes: [3, 10], maxRank: -1 })).toThrow(/positive integers, got -1/);
    const tt = randomTTMatrix([2, 3], [2, 2], 2, uniformFrom(3));
    expect(() => ttMatrixTimesBatch(tt, batchMatrix(2, 5, 1))).toThrow(ShapeError);
  });
});

/** P_k[a, i, j, b] → P_k[a, j, i, b]: the cores of Wᵀ. */
function transposeCore(core: { shape: readonly [number, number, number, number]; data: Float64Array }) {
  const [l, m, n, r] = core.shape;
  const data = new Float64Array(core.data.length);
  for (let a = 0; a < l; a++) for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) for (let b = 0; b < r; b++) {
    data[((a * n + j) * m + i) * r + b] = core.data[((a * m + i) * n + j) * r + b]!;
  }
  return { shape: [l, n, m, r] as const, data };
}
