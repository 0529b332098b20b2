/**
 * The linear probe's solver on a planted logistic model: x ~ N(0, I_d), y ~ Bernoulli(σ(w*·x)).
 * The bounds are derived from the model, not from the solver's output (see each comment).
 */
import { describe, expect, it } from 'vitest';
import { fitLinearProbe, scoreLinearProbe } from '../../src/experiment/linearProbe.ts';
import { fitLogisticRegression, scoreLogistic } from '../../src/experiment/logisticRegression.ts';
import { fitStandardizer, standardize } from '../../src/experiment/standardize.ts';
import { mulberry, normals } from '../nn/gradcheck.ts';

const DIM = 8;
const NORM = 2;

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** E[f(z)] for z ~ N(0, s²) by the midpoint rule on ±12 s (the tails beyond carry < 1e-30 of the mass). */
function gaussianMean(f: (z: number) => number, s: number): number {
  const steps = 20000;
  const h = (24 * s) / steps;
  let sum = 0;
  for (let k = 0; k < steps; k++) {
    const z = -12 * s + (k + 0.5) * h;
    sum += f(z) * Math.exp(-(z * z) / (2 * s * s));
  }
  return (sum * h) / (s * Math.sqrt(2 * Math.PI));
}

function planted(rows: number, seed: number, direction: Float64Array) {
  const random = mulberry(seed);
  const features = normals(random, rows * DIM);
  const labels = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let z = 0;
    for (let j = 0; j < DIM; j++) z += NORM * direction[j]! * features[i * DIM + j]!;
    labels[i] = random() < sigmoid(z) ? 1 : 0;
  }
  return { features, labels };
}

function unitDirection(seed: number): Float64Array {
  const v = Float64Array.from(normals(mulberry(seed), DIM));
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let j = 0; j < a.length; j++) {
    dot += a[j]! * b[j]!;
    na += a[j]! ** 2;
    nb += b[j]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
};

describe('fitLogisticRegression', () => {
  const direction = unitDirection(11);
  const trainRows = 4000;
  const testRows = 4000;
  const train = planted(trainRows, 12, direction);
  const test = planted(testRows, 13, direction);
  const model = fitLogisticRegression(train.features, train.labels, DIM, 1e-4);

  /*
   * Direction. The MLE is asymptotically N(w*, I⁻¹/n). For isotropic x, the coordinates orthogonal to
   * w* are independent of z = w*·x, so their Fisher information is I⊥ = E[σ'(z)], z ~ N(0, |w*|²),
   * and n·I⊥·‖ŵ⊥‖² ~ χ²_{d−1}. With the χ²_7 quantile at 1 − 1e-6 below 40 and the parallel part at
   * least |w*|/2 (its own error is of the same small order), tan(angle) ≤ 2·√(40 / (n I⊥)) / |w*|.
   * λ = 1e-4 shrinks every direction alike on isotropic data, so it adds no angle to first order.
   */
  it('recovers the planted direction within the MLE’s χ² bound', () => {
    const fisherPerp = gaussianMean((z) => sigmoid(z) * (1 - sigmoid(z)), NORM);
    const maxAngle = Math.atan((2 * Math.sqrt(40 / (trainRows * fisherPerp))) / NORM);
    expect(model.converged).toBe(true);
    expect(cosine(model.weights, direction)).toBeGreaterThanOrEqual(Math.cos(maxAngle));
    expect(Math.abs(model.bias)).toBeLessThan(0.3); // the planted bias is 0; its MLE sd is ≈ 1/√(n·E[σ']) ≈ 0.04
  });

  /*
   * Accuracy. The Bayes rule sign(w*·x) is right with probability E[σ(|z|)]. A rule sign(w·x) disagrees
   * with it on a fraction angle/π of isotropic inputs, so it loses at most that much; the test
   * accuracy of n rows deviates from its mean by at most 5 · 0.5/√n (5 standard errors, p < 1e-6).
   */
  it('is as accurate on fresh data as the Bayes rule allows, minus the angle and sampling error', () => {
    const bayes = gaussianMean((z) => sigmoid(Math.abs(z)), NORM);
    const fisherPerp = gaussianMean((z) => sigmoid(z) * (1 - sigmoid(z)), NORM);
    const maxAngle = Math.atan((2 * Math.sqrt(40 / (trainRows * fisherPerp))) / NORM);
    const { accuracy, loss } = scoreLogistic(model, test.features, test.labels);
    expect(accuracy).toBeGreaterThanOrEqual(bayes - maxAngle / Math.PI - 5 * (0.5 / Math.sqrt(testRows)));
    expect(loss).toBeLessThan(Math.log(2)); // better than the constant ½ prediction
  });

  it('meets first-order optimality: the penalised gradient vanishes at the returned point', () => {
    const { weights, bias, lambda } = model;
    const gradient = new Float64Array(DIM + 1);
    for (let i = 0; i < trainRows; i++) {
      let z = bias;
      for (let j = 0; j < DIM; j++) z += weights[j]! * train.features[i * DIM + j]!;
      const residual = sigmoid(z) - train.labels[i]!;
      for (let j = 0; j < DIM; j++) gradient[j]! += residual * train.features[i * DIM + j]!;
      gradient[DIM]! += residual;
    }
    for (let j = 0; j <= DIM; j++) expect(Math.abs(gradient[j]! / trainRows + (j < DIM ? lambda * weights[j]! : 0))).toBeLessThan(1e-7);
  });

  it('rejects a non-positive penalty, labels other than 0/1 and ragged features, naming them', () => {
    expect(() => fitLogisticRegression(train.features, train.labels, DIM, 0)).toThrow(/lambda must be a finite number > 0, got 0/);
    expect(() => fitLogisticRegression([1, 2], [2], 2, 1)).toThrow(/labels must be 0 or 1, got 2 at row 0/);
    expect(() => fitLogisticRegression([1, 2, 3], [0, 1], 2, 1)).toThrow(/rows × dim = 2 × 2 values, got 3/);
  });
});

describe('fitLinearProbe', () => {
  it('standardises with the training statistics and keeps the λ with the best validation accuracy', () => {
    const direction = unitDirection(21);
    const shift = (rows: ReturnType<typeof planted>) => ({ ...rows, features: rows.features.map((x, k) => 10 + (k % DIM) * x) });
    const train = shift(planted(600, 22, direction));
    const validation = shift(planted(600, 23, direction));
    const standardizer = fitStandardizer(train.features, 600, DIM);
    const standardized = standardize(standardizer, train.features);
    for (let j = 0; j < DIM; j++) {
      const column = Array.from({ length: 600 }, (_, i) => standardized[i * DIM + j]!);
      const mean = column.reduce((a, b) => a + b, 0) / 600;
      expect(Math.abs(mean)).toBeLessThan(1e-9);
      // column 0 is the constant 10: it keeps scale 1 and maps to 0
      expect(Math.sqrt(column.reduce((a, b) => a + (b - mean) ** 2, 0) / 600)).toBeCloseTo(j === 0 ? 0 : 1, 9);
    }
    const probe = fitLinearProbe(train, validation, DIM, [1e-3, 1, 100]);
    const best = Math.max(...probe.grid.map((point) => point.validation.accuracy));
    expect(probe.validation.accuracy).toBe(best);
    expect(probe.grid.map((point) => point.lambda)).toEqual([100, 1, 1e-3]);
    expect(scoreLinearProbe(probe, validation)).toEqual(probe.validation);
  });
});
