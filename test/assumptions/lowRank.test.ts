import { test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { buildLowRankMatrix, lowRankMatrix, randomOrthonormal, ttTensor } from '../../src/assumptions/arbitraries.ts';
import {
  bestRankEnergy, capturedEnergy, gradientRankReport, leftSubspace, numericalRank, singularValues, stableRank, subspaceOverlap,
} from '../../src/assumptions/lowRank.ts';

const RUNS = { seed: 424242, numRuns: 25 };

describe('low-rank gradient checkers recover constructed matrices', () => {
  test.prop([lowRankMatrix()], RUNS)('exact rank, singular values and stable rank', (matrix) => {
    const sigmas = singularValues(matrix);
    const distinct = matrix.singularValues;
    expect(numericalRank(sigmas)).toBe(matrix.rank);
    distinct.forEach((sigma, i) => expect(Math.abs(sigmas[i]! - sigma)).toBeLessThan(1e-9 * distinct[0]!));
    const expectedStable = distinct.reduce((s, x) => s + x * x, 0) / distinct[0]! ** 2;
    expect(stableRank(sigmas)).toBeCloseTo(expectedStable, 8);
    expect(bestRankEnergy(sigmas, matrix.rank)).toBeCloseTo(1, 10);
  });

  test.prop([lowRankMatrix()], RUNS)('a rank-r projector from the gradient captures all of it; its complement nothing', (matrix) => {
    const basis = leftSubspace(matrix, matrix.rank);
    expect(capturedEnergy(matrix, basis)).toBeCloseTo(1, 9);
    expect(subspaceOverlap(basis, basis)).toBeCloseTo(1, 9);
  });

  test('independent random r-dimensional subspaces overlap by about r/m', () => {
    // E‖P₁ᵀP₂‖_F²/r = r/m; over 40 pairs in ℝ^64 with r = 4 the mean is 1/16 with SD ≈ 0.01, so ±0.03 is > 5 SE.
    const overlaps = Array.from({ length: 40 }, (_, k) => subspaceOverlap(randomOrthonormal(64, 4, 2 * k), randomOrthonormal(64, 4, 2 * k + 1)));
    expect(overlaps.reduce((s, x) => s + x, 0) / overlaps.length).toBeCloseTo(4 / 64, 1);
  });

  test('report lists energy at each requested rank', () => {
    const matrix = buildLowRankMatrix(20, 12, [4, 2, 1], 3);
    const report = gradientRankReport(matrix, [1, 3]);
    expect(report.energyAtRank[1]).toBeCloseTo(16 / 21, 9);
    expect(report.energyAtRank[3]).toBeCloseTo(1, 9);
  });
});

describe('TT-rank arbitrary', () => {
  test.prop([ttTensor()], RUNS)('every unfolding has rank ≤ the TT-rank it was built with', (tensor) => {
    let rows = 1;
    for (let k = 0; k < tensor.modes.length - 1; k++) {
      rows *= tensor.modes[k]!;
      const cols = tensor.values.length / rows;
      const rank = numericalRank(singularValues({ rows, cols, values: tensor.values }), 1e-9);
      expect(rank).toBeLessThanOrEqual(tensor.ranks[k]!);
    }
  });
});
