/**
 * Binary logistic regression with an L2 penalty, fitted by Newton's method (IRLS) — the classifier of
 * the linear-probe baseline (MeZO arXiv 2305.17333 "LP": logistic regression on frozen features).
 *
 * Objective, for rows x_i ∈ ℝ^d, labels y_i ∈ {0, 1}, z_i = w·x_i + b:
 *   L(w, b) = (1/n) Σ_i [log(1 + e^{z_i}) − y_i z_i] + (λ/2)‖w‖²      (the bias is not penalised)
 *   ∇L = (1/n) [X 1]ᵀ(p − y) + λ[w; 0],   ∇²L = (1/n) [X 1]ᵀ S [X 1] + λ diag(1, …, 1, 0),
 *   p_i = σ(z_i), S = diag(p_i(1 − p_i)).
 * For λ > 0 the objective is strictly convex in w; each Newton direction solves ∇²L Δ = −∇L with
 * ml-matrix's LU solve, and a backtracking (Armijo) line search keeps every step a descent step, so
 * the iteration converges to the unique minimiser from θ = 0. It stops when ‖∇L‖∞ < tolerance.
 *
 * Cost per iteration: O(n d²) for the Hessian and O(d³) for the solve; d = 128 features and a few
 * thousand rows take milliseconds. Arithmetic is float64 throughout.
 *
 * Bad input: λ ≤ 0 (the minimiser need not exist on separable data), labels other than 0/1, or a
 * feature block whose length is not rows × dim throw ConfigError.
 */
import { Matrix, solve } from 'ml-matrix';
import { ConfigError } from '../errors.ts';
import type { EvalResult } from './workload.ts';

export interface LogisticModel {
  /** [dim] */
  weights: Float64Array;
  bias: number;
  lambda: number;
  iterations: number;
  /** whether ‖∇L‖∞ fell below the tolerance within the iteration limit. */
  converged: boolean;
}

export interface LogisticFitOptions {
  maxIterations?: number;
  tolerance?: number;
}

/** Newton converges quadratically near the optimum: 50 iterations is never the binding limit on a well-posed problem. */
const DEFAULT_MAX_ITERATIONS = 50;
const DEFAULT_TOLERANCE = 1e-8;
/** Armijo constant and backtracking factor (Nocedal & Wright, Algorithm 3.1). */
const ARMIJO = 1e-4;
const BACKTRACK = 0.5;

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

function checkShapes(features: ArrayLike<number>, labels: ArrayLike<number>, dim: number): number {
  if (!(Number.isInteger(dim) && dim >= 1)) throw new ConfigError(`logistic regression: dim must be an integer ≥ 1, got ${dim}`);
  const rows = labels.length;
  if (features.length !== rows * dim) throw new ConfigError(`logistic regression: features must hold rows × dim = ${rows} × ${dim} values, got ${features.length}`);
  for (let i = 0; i < rows; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) throw new ConfigError(`logistic regression: labels must be 0 or 1, got ${labels[i]} at row ${i}`);
  }
  return rows;
}

function logits(features: ArrayLike<number>, rows: number, dim: number, weights: ArrayLike<number>, bias: number): Float64Array {
  const z = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let sum = bias;
    const offset = i * dim;
    for (let j = 0; j < dim; j++) sum += features[offset + j]! * weights[j]!;
    z[i] = sum;
  }
  return z;
}

function objective(z: Float64Array, labels: ArrayLike<number>, weights: ArrayLike<number>, lambda: number): number {
  let loss = 0;
  for (let i = 0; i < z.length; i++) loss += softplus(z[i]!) - labels[i]! * z[i]!;
  let norm = 0;
  for (let j = 0; j < weights.length; j++) norm += weights[j]! ** 2;
  return loss / z.length + 0.5 * lambda * norm;
}

/** Fits w, b on `features` (row-major [rows, dim]) and `labels` (0/1) with penalty λ > 0. */
export function fitLogisticRegression(
  features: ArrayLike<number>,
  labels: ArrayLike<number>,
  dim: number,
  lambda: number,
  options: LogisticFitOptions = {},
): LogisticModel {
  const rows = checkShapes(features, labels, dim);
  if (!(Number.isFinite(lambda) && lambda > 0)) throw new ConfigError(`logistic regression: lambda must be a finite number > 0, got ${lambda}`);
  if (rows === 0) throw new ConfigError('logistic regression: needs at least one training row, got 0');
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const size = dim + 1; // the last coordinate is the bias
  let theta = new Float64Array(size);
  let z = logits(features, rows, dim, theta, 0);
  let value = objective(z, labels, theta.subarray(0, dim), lambda);
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIterations; iterations++) {
    const gradient = new Float64Array(size);
    const hessian = new Float64Array(size * size);
    for (let i = 0; i < rows; i++) {
      const p = sigmoid(z[i]!);
      const residual = p - labels[i]!;
      const curvature = p * (1 - p);
      const offset = i * dim;
      for (let a = 0; a < size; a++) {
        const xa = a < dim ? features[offset + a]! : 1;
        gradient[a]! += residual * xa;
        const scaled = curvature * xa;
        // upper triangle only; mirrored below
        for (let b = a; b < size; b++) hessian[a * size + b]! += scaled * (b < dim ? features[offset + b]! : 1);
      }
    }
    for (let a = 0; a < size; a++) {
      gradient[a] = gradient[a]! / rows + (a < dim ? lambda * theta[a]! : 0);
      for (let b = a; b < size; b++) {
        const h = hessian[a * size + b]! / rows + (a === b && a < dim ? lambda : 0);
        hessian[a * size + b] = h;
        hessian[b * size + a] = h;
      }
    }
    let gradientMax = 0;
    for (const g of gradient) gradientMax = Math.max(gradientMax, Math.abs(g));
    if (gradientMax < tolerance) {
      converged = true;
      break;
    }
    const hessianMatrix = new Matrix(Array.from({ length: size }, (_, a) => Array.from(hessian.subarray(a * size, (a + 1) * size))));
    const direction = solve(hessianMatrix, Matrix.columnVector(Array.from(gradient, (g) => -g))).getColumn(0);
    let slope = 0;
    for (let a = 0; a < size; a++) slope += gradient[a]! * direction[a]!;
    let step = 1;
    let candidate = theta;
    let candidateZ = z;
    let candidateValue = value;
    // ∇²L is positive definite, so `direction` descends (slope < 0) and some step satisfies Armijo
    for (let tries = 0; tries < 60; tries++) {
      candidate = Float64Array.from(theta, (t, a) => t + step * direction[a]!);
      candidateZ = logits(features, rows, dim, candidate, candidate[dim]!);
      candidateValue = objective(candidateZ, labels, candidate.subarray(0, dim), lambda);
      if (candidateValue <= value + ARMIJO * step * slope) break;
      step *= BACKTRACK;
    }
    if (!(candidateValue < value)) {
      // no decrease representable in float64: θ is the minimiser to machine precision
      converged = true;
      break;
    }
    theta = candidate;
    z = candidateZ;
    value = candidateValue;
  }
  return { weights: theta.slice(0, dim), bias: theta[dim]!, lambda, iterations, converged };
}

/** P(y = 1 | x) for every row of `features` ([rows, dim]). */
export function predictProbabilities(model: LogisticModel, features: ArrayLike<number>, rows: number): Float64Array {
  return logits(features, rows, model.weights.length, model.weights, model.bias).map(sigmoid);
}

/** Accuracy (threshold 1/2) and mean cross-entropy −log p(y | x) of `model` on labelled rows. */
export function scoreLogistic(model: LogisticModel, features: ArrayLike<number>, labels: ArrayLike<number>): EvalResult {
  const rows = checkShapes(features, labels, model.weights.length);
  if (rows === 0) throw new ConfigError('logistic regression: cannot score zero rows');
  const z = logits(features, rows, model.weights.length, model.weights, model.bias);
  let correct = 0;
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    const y = labels[i]!;
    if ((z[i]! > 0 ? 1 : 0) === y) correct++;
    loss += softplus(z[i]!) - y * z[i]!;
  }
  return { accuracy: correct / rows, loss: loss / rows };
}
