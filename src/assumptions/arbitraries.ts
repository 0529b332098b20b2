/**
 * fast-check arbitraries for problems with known constants, so a property test can check an
 * estimator, optimizer or checker against the truth. Each draws an integer seed and builds the
 * problem deterministically from zolo's counter RNG, so shrinking reports a small reproducible case.
 *
 *   quadratic({ dim, spectrum })   f(θ) = ½(θ−θ*)ᵀA(θ−θ*), A = Q diag(λ) Qᵀ: L, μ, tr(A), effective rank known
 *   lowRankMatrix({ rows, cols, singularValues })   U diag(σ) Vᵀ with orthonormal U, V: rank, stable rank known
 *   ttTensor({ modes, ranks })     a tensor built from TT cores: TT-ranks ≤ ranks
 *   smoothNonConvex({ dim, amplitude })   f(θ) = Σ θᵢ²/2 + a·cos θᵢ: ∇²f = diag(1 − a cos θᵢ), so L = 1 + a,
 *                                   non-convex when a > 1
 */
import fc from 'fast-check';
import { Matrix, QrDecomposition } from 'ml-matrix';
import { normalAt } from '../kernels/rng.ts';
import { type DifferentiableProblem, syncProblem } from './problem.ts';

/** d×k matrix with orthonormal columns: Q of the QR of a Gaussian matrix (Haar up to signs). */
export function randomOrthonormal(rows: number, cols: number, seed: number, stream = 0): Matrix {
  const gaussian = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) gaussian.set(i, j, normalAt(seed, stream, i * cols + j));
  return new QrDecomposition(gaussian).orthogonalMatrix.subMatrix(0, rows - 1, 0, cols - 1);
}

export interface QuadraticProblem extends DifferentiableProblem {
  eigenvalues: number[];
  /** A as a row-major d×d array. */
  hessian: Float64Array;
  minimizer: Float64Array;
  smoothness: number; // L = λ_max
  strongConvexity: number; // μ = λ_min
  trace: number;
  /** tr(A)/λ_max (MeZO Assumption 1). */
  effectiveRank: number;
  lossAt(theta: Float64Array): number;
  gradientAt(theta: Float64Array): Float64Array;
}

export function buildQuadratic(eigenvalues: readonly number[], seed: number): QuadraticProblem {
  const dim = eigenvalues.length;
  const q = randomOrthonormal(dim, dim, seed, 0);
  const hessian = new Float64Array(dim * dim);
  for (let i = 0; i < dim; i++) {
    for (let j = 0; j < dim; j++) {
      let acc = 0;
      for (let k = 0; k < dim; k++) acc += q.get(i, k) * eigenvalues[k]! * q.get(j, k);
      hessian[i * dim + j] = acc;
    }
  }
  const minimizer = new Float64Array(dim);
  for (let i = 0; i < dim; i++) minimizer[i] = normalAt(seed, 1, i);
  const gradientAt = (theta: Float64Array): Float64Array => {
    const out = new Float64Array(dim);
    for (let i = 0; i < dim; i++) {
      let acc = 0;
      for (let j = 0; j < dim; j++) acc += hessian[i * dim + j]! * (theta[j]! - minimizer[j]!);
      out[i] = acc;
    }
    return out;
  };
  const lossAt = (theta: Float64Array): number => {
    const g = gradientAt(theta);
    let acc = 0;
    for (let i = 0; i < dim; i++) acc += (theta[i]! - minimizer[i]!) * g[i]!;
    return acc / 2;
  };
  const sorted = [...eigenvalues].sort((a, b) => b - a);
  const trace = eigenvalues.reduce((s, x) => s + x, 0);
  return {
    ...syncProblem(dim, lossAt, gradientAt),
    eigenvalues: sorted,
    hessian,
    minimizer,
    smoothness: sorted[0]!,
    strongConvexity: sorted[sorted.length - 1]!,
    trace,
    effectiveRank: trace / Math.max(...sorted.map(Math.abs)),
    lossAt,
    gradientAt,
  };
}

export type SpectrumShape = 'uniform' | 'geometric' | 'lowEffectiveRank';

export interface QuadraticOptions {
  minDim?: number;
  maxDim?: number;
  /** uniform in [μ, L]; geometric decay from L to μ; or a few large eigenvalues over a floor of μ. */
  spectrum?: SpectrumShape;
  smoothness?: number;
  strongConvexity?: number;
}

export function spectrumOf(shape: SpectrumShape, dim: number, smoothness: number, strongConvexity: number): number[] {
  if (dim === 1) return [smoothness];
  return Array.from({ length: dim }, (_, i) => {
    const t = i / (dim - 1);
    if (shape === 'uniform') return smoothness + (strongConvexity - smoothness) * t;
    if (shape === 'geometric') return smoothness * (strongConvexity / smoothness) ** t;
    return i < Math.max(1, Math.round(dim / 16)) ? smoothness : strongConvexity;
  });
}

export function quadratic(options: QuadraticOptions = {}): fc.Arbitrary<QuadraticProblem> {
  const { minDim = 2, maxDim = 24, spectrum = 'geometric', smoothness = 10, strongConvexity = 0.1 } = options;
  return fc
    .record({ dim: fc.integer({ min: minDim, max: maxDim }), seed: fc.integer({ min: 0, max: 0x7fffffff }) })
    .map(({ dim, seed }) => buildQuadratic(spectrumOf(spectrum, dim, smoothness, strongConvexity), seed));
}

export interface LowRankMatrix {
  rows: number;
  cols: number;
  rank: number;
  singularValues: number[];
  /** row-major rows×cols. */
  values: Float64Array;
}

export function buildLowRankMatrix(rows: number, cols: number, singularValues: readonly number[], seed: number): LowRankMatrix {
  const rank = singularValues.length;
  const u = randomOrthonormal(rows, rank, seed, 0);
  const v = randomOrthonormal(cols, rank, seed, 1);
  const values = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      let acc = 0;
      for (let k = 0; k < rank; k++) acc += u.get(i, k) * singularValues[k]! * v.get(j, k);
      values[i * cols + j] = acc;
    }
  }
  return { rows, cols, rank, singularValues: [...singularValues].sort((a, b) => b - a), values };
}

export function lowRankMatrix(options: { maxRows?: number; maxCols?: number; maxRank?: number } = {}): fc.Arbitrary<LowRankMatrix> {
  const { maxRows = 32, maxCols = 32, maxRank = 6 } = options;
  return fc
    .record({
      rows: fc.integer({ min: 2, max: maxRows }),
      cols: fc.integer({ min: 2, max: maxCols }),
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
      sigmas: fc.array(fc.double({ min: 0.1, max: 10, noNaN: true }), { minLength: 1, maxLength: maxRank }),
    })
    .map(({ rows, cols, seed, sigmas }) => buildLowRankMatrix(rows, cols, sigmas.slice(0, Math.min(rows, cols)), seed));
}

export interface TTRankTensor {
  modes: number[];
  /** inner TT-ranks r_1..r_{d−1} the tensor was built with (its TT-ranks are at most these). */
  ranks: number[];
  /** cores[k] is r_{k−1}×n_k×r_k, row-major. */
  cores: Float64Array[];
  /** the full tensor, row-major. */
  values: Float64Array;
}

export function buildTTTensor(modes: readonly number[], ranks: readonly number[], seed: number): TTRankTensor {
  const bounds = [1, ...ranks, 1];
  const cores = modes.map((n, k) => {
    const core = new Float64Array(bounds[k]! * n * bounds[k + 1]!);
    for (let i = 0; i < core.length; i++) core[i] = normalAt(seed, k, i);
    return core;
  });
  // Contract left to right: partial is (n_1⋯n_k) × r_k.
  let partial = Float64Array.from(cores[0]!);
  let rows = modes[0]!;
  for (let k = 1; k < modes.length; k++) {
    const left = bounds[k]!;
    const width = modes[k]! * bounds[k + 1]!;
    const next = new Float64Array(rows * width);
    for (let i = 0; i < rows; i++) {
      for (let a = 0; a < left; a++) {
        const p = partial[i * left + a]!;
        for (let j = 0; j < width; j++) next[i * width + j]! += p * cores[k]![a * width + j]!;
      }
    }
    partial = next;
    rows *= modes[k]!;
  }
  return { modes: [...modes], ranks: [...ranks], cores, values: partial };
}

export function ttTensor(options: { maxOrder?: number; maxMode?: number; maxRank?: number } = {}): fc.Arbitrary<TTRankTensor> {
  const { maxOrder = 4, maxMode = 5, maxRank = 3 } = options;
  return fc
    .record({
      modes: fc.array(fc.integer({ min: 2, max: maxMode }), { minLength: 2, maxLength: maxOrder }),
      rank: fc.integer({ min: 1, max: maxRank }),
      seed: fc.integer({ min: 0, max: 0x7fffffff }),
    })
    .map(({ modes, rank, seed }) => buildTTTensor(modes, new Array<number>(modes.length - 1).fill(rank), seed));
}

export interface SmoothNonConvexProblem extends DifferentiableProblem {
  amplitude: number;
  /** sup ‖∇²f‖ = 1 + a. */
  smoothness: number;
  /** inf λ_min(∇²f) = 1 − a (negative: non-convex). */
  curvatureFloor: number;
  lossAt(theta: Float64Array): number;
  gradientAt(theta: Float64Array): Float64Array;
}

export function buildSmoothNonConvex(dim: number, amplitude: number): SmoothNonConvexProblem {
  const lossAt = (theta: Float64Array): number => theta.reduce((s, x) => s + (x * x) / 2 + amplitude * Math.cos(x), 0);
  const gradientAt = (theta: Float64Array): Float64Array => theta.map((x) => x - amplitude * Math.sin(x));
  return { ...syncProblem(dim, lossAt, gradientAt), amplitude, smoothness: 1 + amplitude, curvatureFloor: 1 - amplitude, lossAt, gradientAt };
}

export function smoothNonConvex(options: { maxDim?: number; maxAmplitude?: number } = {}): fc.Arbitrary<SmoothNonConvexProblem> {
  const { maxDim = 32, maxAmplitude = 3 } = options;
  return fc
    .record({ dim: fc.integer({ min: 1, max: maxDim }), amplitude: fc.double({ min: 0, max: maxAmplitude, noNaN: true }) })
    .map(({ dim, amplitude }) => buildSmoothNonConvex(dim, amplitude));
}
