import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { add, frobenius, norm, orthogonalizeRightToLeft, randomTT, relativeDifference, round, scale, ttSvd, ttToFull } from '../../src/tensortrain/index.ts';
import { gaussianTensor, seedArb, uniformFrom } from './helpers.ts';

const RUNS = { seed: 20261124, numRuns: 30 };
const shapeArb = fc.array(fc.integer({ min: 2, max: 5 }), { minLength: 2, maxLength: 4 });

describe('TT rounding (Oseledets 2011, Alg. 2)', () => {
  test.prop([shapeArb, fc.integer({ min: 1, max: 4 }), seedArb], RUNS)('never breaks ‖X − round(X)‖ ≤ ε‖X‖ (spec §3.5)', (shape, rank, seed) => {
    const x = add(randomTT(shape, rank, uniformFrom(seed)), randomTT(shape, rank, uniformFrom(seed + 1)));
    const full = ttToFull(x).data;
    for (const eps of [0.01, 0.1, 0.3, 0.7]) {
      const rounded = round(x, { relativeError: eps });
      // Exact inequality; 1e-12 covers rounding in the orthogonalisation and reconstruction.
      expect(relativeDifference(ttToFull(rounded).data, full)).toBeLessThanOrEqual(eps + 1e-12);
    }
  });

  test.prop([shapeArb, fc.integer({ min: 1, max: 3 }), seedArb], RUNS)('rounding X + X returns ranks ≤ r and preserves 2X', (shape, rank, seed) => {
    const x = randomTT(shape, rank, uniformFrom(seed));
    const doubled = add(x, x);
    expect(doubled.ranks.slice(1, -1).every((r) => r === 2 * rank)).toBe(true);
    const rounded = round(doubled, { relativeError: 1e-12 });
    rounded.ranks.forEach((r, k) => expect(r).toBeLessThanOrEqual(x.ranks[k]!));
    expect(relativeDifference(ttToFull(rounded).data, ttToFull(scale(x, 2)).data)).toBeLessThan(1e-12);
  });

  test.prop([shapeArb, seedArb], RUNS)('round without ε keeps the tensor; the orthogonalised first core carries the norm', (shape, seed) => {
    const x = ttSvd(gaussianTensor(shape, seed), { maxRank: 3 });
    const full = ttToFull(x).data;
    expect(relativeDifference(ttToFull(round(x)).data, full)).toBeLessThan(1e-12);
    const orth = orthogonalizeRightToLeft(x);
    expect(relativeDifference(ttToFull(orth).data, full)).toBeLessThan(1e-12);
    expect(Math.abs(frobenius(orth.cores[0]!.data) - frobenius(full))).toBeLessThan(1e-12 * frobenius(full));
    expect(Math.abs(norm(x) - frobenius(full))).toBeLessThan(1e-12 * frobenius(full));
  });

  test('a rank cap on rounding is honoured', () => {
    const x = randomTT([4, 5, 6], 4, uniformFrom(9));
    expect(round(x, { maxRank: 2 }).ranks).toEqual([1, 2, 2, 1]);
  });
});
