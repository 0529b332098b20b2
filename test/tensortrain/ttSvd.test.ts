import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { ConfigError, ShapeError } from '../../src/errors.ts';
import { frobenius, product, randomTT, relativeDifference, ttSvd, ttToFull } from '../../src/tensortrain/index.ts';
import { gaussianTensor, seedArb, smallShape, uniformFrom } from './helpers.ts';

const RUNS = { seed: 20261124, numRuns: 40 };

describe('TT-SVD (Oseledets 2011, Alg. 1)', () => {
  test.prop([fc.array(fc.integer({ min: 2, max: 5 }), { minLength: 3, maxLength: 4 }), fc.integer({ min: 1, max: 3 }), seedArb], RUNS)(
    'recovers a tensor built from random cores with ranks ≤ r, at max rank r (spec §3.1)',
    (shape, rank, seed) => {
      const source = randomTT(shape, rank, uniformFrom(seed));
      const full = ttToFull(source);
      const tt = ttSvd(full, { maxRank: rank });
      // Exact TT of a rank-≤r tensor: only float64 rounding in d−1 SVDs (~1e−15 each) remains.
      expect(relativeDifference(ttToFull(tt).data, full.data)).toBeLessThan(1e-12);
      tt.ranks.forEach((r, k) => expect(r).toBeLessThanOrEqual(source.ranks[k]!));
      // Tiny ε also truncates exactly to the unfolding ranks (generic random cores: the feasible bound).
      const byError = ttSvd(full, { relativeError: 1e-12 });
      expect(relativeDifference(ttToFull(byError).data, full.data)).toBeLessThan(1e-12);
      byError.ranks.forEach((r, k) => {
        const feasible = Math.min(rank, product(shape.slice(0, k)), product(shape.slice(k)));
        expect(r).toBe(k === 0 || k === shape.length ? 1 : feasible);
      });
    },
  );

  test.prop([smallShape, seedArb], RUNS)('‖A − TT(A)‖_F ≤ ε‖A‖_F for every ε, and r_1 is non-increasing in ε (spec §3.2)', (shape, seed) => {
    const a = gaussianTensor(shape, seed);
    const norm = frobenius(a.data);
    let previousR1 = Infinity;
    for (const eps of [0.05, 0.2, 0.5, 0.9]) {
      const tt = ttSvd(a, { relativeError: eps });
      const error = relativeDifference(ttToFull(tt).data, a.data);
      // Theorem 2.2 is an exact inequality; 1e-12 absorbs the rounding of the reconstruction.
      expect(error).toBeLessThanOrEqual(eps + 1e-12 * (norm > 0 ? 1 : 0));
      expect(tt.ranks[1]!).toBeLessThanOrEqual(previousR1);
      previousR1 = tt.ranks[1]!;
    }
  });

  test('reproduces the spec example: shape (6,7,5,4), ε = 0.5 keeps error below 0.5', () => {
    const a = gaussianTensor([6, 7, 5, 4], 1);
    const tt = ttSvd(a, { relativeError: 0.5 });
    expect(relativeDifference(ttToFull(tt).data, a.data)).toBeLessThanOrEqual(0.5);
  });

  test.prop([smallShape, seedArb], RUNS)('rank caps hold, ranks stay feasible, and error is non-increasing in the cap (spec §3.3)', (shape, seed) => {
    const a = gaussianTensor(shape, seed);
    let previous = Infinity;
    for (let cap = 1; cap <= 6; cap++) {
      const tt = ttSvd(a, { maxRank: cap });
      tt.ranks.forEach((r, k) => {
        expect(r).toBeLessThanOrEqual(k === 0 || k === shape.length ? 1 : cap);
        expect(r).toBeLessThanOrEqual(Math.min(product(shape.slice(0, k)), product(shape.slice(k))));
      });
      const error = relativeDifference(ttToFull(tt).data, a.data);
      // Larger caps keep a superset of singular directions at every step (regression for tensorly#607).
      expect(error).toBeLessThanOrEqual(previous + 1e-12);
      previous = error;
    }
  });

  test.prop([smallShape, seedArb], RUNS)('cores 1..d−1 are left-orthonormal (spec §3.4)', (shape, seed) => {
    const tt = ttSvd(gaussianTensor(shape, seed), { relativeError: 0.3 });
    tt.cores.slice(0, -1).forEach((core) => {
      const [left, mode, right] = core.shape;
      const rows = left * mode;
      for (let i = 0; i < right; i++) {
        for (let j = 0; j < right; j++) {
          let dot = 0;
          for (let p = 0; p < rows; p++) dot += core.data[p * right + i]! * core.data[p * right + j]!;
          expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-12);
        }
      }
    });
  });

  test('d = 1 returns one core; a zero tensor gives rank-1 zero cores', () => {
    const vector = gaussianTensor([7], 3);
    expect(ttSvd(vector, { relativeError: 0.1 }).cores[0]!.shape).toEqual([1, 7, 1]);
    const zero = ttSvd({ shape: [3, 4, 2], data: new Float64Array(24) }, { relativeError: 0.1 });
    expect(zero.ranks).toEqual([1, 1, 1, 1]);
    expect(frobenius(ttToFull(zero).data)).toBe(0);
  });

  test('bad input names the tensor and the numbers', () => {
    const a = gaussianTensor([3, 4, 5], 2);
    expect(() => ttSvd(a, { relativeError: 0, name: 'blocks.0.W' })).toThrow(ConfigError);
    expect(() => ttSvd(a, { relativeError: -0.1, name: 'blocks.0.W' })).toThrow(/blocks\.0\.W: relativeError \(ε\) must be a positive finite number, got -0\.1/);
    expect(() => ttSvd(a, { maxRank: 0 })).toThrow(/TT ranks must be positive integers, got 0/);
    expect(() => ttSvd(a, { maxRank: [1, 2, 1] })).toThrow(/needs 4 TT ranks/);
    expect(() => ttSvd(a, { maxRank: [2, 2, 2, 1] })).toThrow(/boundary TT ranks/);
    expect(() => ttSvd({ shape: [3, 4], data: new Float64Array(11) })).toThrow(ShapeError);
    expect(() => ttSvd({ shape: [3, 0], data: new Float64Array(0) })).toThrow(ShapeError);
  });
});
