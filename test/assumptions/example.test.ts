// The example from docs/assumptions.md, kept as a test so it stays true: a user's own property
// about ZO-SGD, checked on quadratics whose constants are known.
import { test } from '@fast-check/vitest';
import { expect } from 'vitest';
import { quadratic } from '../../src/assumptions/arbitraries.ts';
import { normalAt } from '../../src/kernels/rng.ts';

test.prop([quadratic({ maxDim: 12, spectrum: 'uniform' })], { seed: 7, numRuns: 10 })(
  'one ZO-SGD step with η = 1/(tr A + 2L) decreases f in expectation by the predicted amount',
  (problem) => {
    // zo-estimators.md §5.9: E f(θ − η(zᵀg)z) = f(θ) − η‖g‖² + (η²/2)(tr(A)‖g‖² + 2gᵀAg).
    const theta = new Float64Array(problem.dim).fill(1);
    const g = problem.gradientAt(theta);
    const eta = 1 / (problem.trace + 2 * problem.smoothness);
    const draws = 3000;
    let sum = 0;
    let sumSquares = 0;
    for (let k = 0; k < draws; k++) {
      const z = Float64Array.from({ length: problem.dim }, (_, i) => normalAt(1234, k, i));
      const projected = z.reduce((s, zi, i) => s + zi * g[i]!, 0);
      const value = problem.lossAt(theta.map((t, i) => t - eta * projected * z[i]!));
      sum += value;
      sumSquares += value * value;
    }
    const mean = sum / draws;
    const standardError = Math.sqrt((sumSquares / draws - mean * mean) / draws);
    const gNorm2 = g.reduce((s, x) => s + x * x, 0);
    const gAg = g.reduce((s, gi, i) => s + gi * problem.hessian.slice(i * problem.dim, (i + 1) * problem.dim).reduce((t, a, j) => t + a * g[j]!, 0), 0);
    const predicted = problem.lossAt(theta) - eta * gNorm2 + (eta * eta / 2) * (problem.trace * gNorm2 + 2 * gAg);
    expect(Math.abs(mean - predicted)).toBeLessThan(5 * standardError);
  },
);
