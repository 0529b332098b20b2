/**
 * perturbInPlace(+s) followed by perturbInPlace(−s) restores the parameters, on every backend.
 *
 * Float reasoning: both calls regenerate the same z_i and form the same product s·z_i, so
 * θ¹ = fl(θ + s z) = θ + s z + e₁ with |e₁| ≤ u|θ¹|, and θ² = fl(θ¹ − s z) = θ + e₁ + e₂ with
 * |e₂| ≤ u|θ²| (u = 2⁻²⁴ ≈ 6e-8; an f32 backend adds at most one more rounding of s z). Hence
 * |θ² − θ| ≤ 3u(|θ| + |s z|) < 1e-6 · max(|θ|, |s z|): "1e-6 relative" means relative to the
 * larger of the value and the step, since a parameter at 0 cannot be restored to better than the
 * rounding of θ + s z.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Backend } from '../../src/kernels/backend.ts';
import { ShapeError } from '../../src/errors.ts';
import { CpuBackend, normalAt } from '../../src/kernels/index.ts';
import { Engine, ops } from '../../src/tensor/index.ts';
import { open, rng, targets, uniform } from './helpers.ts';

for (const target of targets()) {
  describe(`${target.label}: perturb +s then −s`, () => {
    let backend: Backend;
    beforeAll(async () => {
      backend = await open(target);
    });
    afterAll(() => backend.dispose());

    test('returns the parameters within 1e-6 relative', async () => {
      await fc.assert(fc.asyncProperty(
        fc.integer({ min: 1, max: 3001 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 4000 }),
        fc.constantFrom(1e-3, 1e-2, 1, 17), fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        async (n, seed, stream, scale, dataSeed) => {
          const theta = uniform(rng(dataSeed), n);
          const buffer = backend.upload(theta);
          backend.perturbInPlace(buffer, seed, stream, scale);
          backend.perturbInPlace(buffer, seed, stream, -scale);
          const restored = await backend.read(buffer);
          for (let i = 0; i < n; i++) {
            const step = Math.abs(scale * normalAt(seed, stream, i));
            expect(Math.abs(restored[i]! - theta[i]!)).toBeLessThanOrEqual(1e-6 * Math.max(Math.abs(theta[i]!), step));
          }
        }), { seed: 301, numRuns: 20 });
    });
  });
}

describe('bad input', () => {
  const engine = new Engine(new CpuBackend());
  test.each([NaN, Infinity, -Infinity])('scale %s is refused with a message naming the op, value and shape', (scale) => {
    const param = engine.zeros([3, 5], 'weights');
    expect(() => ops.perturbInPlace(param, { k0: 1, k1: 0 }, scale)).toThrow(ShapeError);
    expect(() => ops.perturbInPlace(param, { k0: 1, k1: 0 }, scale)).toThrow(`perturbInPlace: scale and decay must be finite, got scale=${scale}`);
    expect(() => ops.perturbInPlace(param, { k0: 1, k1: 0 }, scale)).toThrow('[3, 5]');
  });
  test('non-finite decay is refused', () => {
    const param = engine.zeros([4], 'weights');
    expect(() => ops.perturbInPlace(param, { k0: 1, k1: 0 }, 0.1, NaN)).toThrow('decay=NaN');
  });
});
