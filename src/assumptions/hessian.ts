/**
 * The Hessian without forming it (MeZO's premise, Assumption 1 of arXiv 2305.17333: a low
 * effective rank r = tr(H)/‖H‖_op makes ZO slow down by Θ(r), not Θ(d)).
 *
 * Hessian-vector products come from central differences of true gradients:
 *   Hv ≈ (∇f(θ + h·v) − ∇f(θ − h·v)) / (2h),
 * exact for quadratics up to rounding; otherwise error O(h²·‖∇⁴f‖) plus rounding ≈ u·‖∇f‖/h with u
 * the gradient's unit roundoff (2⁻²⁴ for float32 models), so h ≈ 1e-3·(1 + ‖θ‖/√d) balances the two.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { ConfigError } from '../errors.ts';
import { normalAt, uniformAt } from '../kernels/rng.ts';
import type { DifferentiableProblem } from './problem.ts';
import { addScaled, dot, type MeanInterval, meanInterval, norm, scaled } from './vectors.ts';

export interface HvpOptions {
  /** finite-difference step along the unit direction. */
  step?: number;
}

export function defaultHvpStep(theta: Float64Array): number {
  return 1e-3 * (1 + norm(theta) / Math.sqrt(Math.max(1, theta.length)));
}

/** Hv by central differences of gradients (two gradient evaluations). */
export async function hessianVectorProduct(
  problem: DifferentiableProblem, theta: Float64Array, v: Float64Array, options: HvpOptions = {},
): Promise<Float64Array> {
  const length = norm(v);
  if (length === 0) return new Float64Array(v.length);
  const h = (options.step ?? defaultHvpStep(theta)) / length;
  const plus = await problem.gradient(addScaled(theta, h, v));
  const minus = await problem.gradient(addScaled(theta, -h, v));
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = (plus[i]! - minus[i]!) / (2 * h);
  return out;
}

export interface TraceEstimate extends MeanInterval {
  /** the individual vᵀHv values. */
  values: number[];
}

/**
 * Hutchinson's estimator tr(H) = E[vᵀHv] with Rademacher v (Hutchinson 1989). Its variance is
 * 2(‖H‖_F² − Σᵢ Hᵢᵢ²), so the returned interval is a CLT interval over `probes` draws.
 */
export async function hutchinsonTrace(
  problem: DifferentiableProblem, theta: Float64Array, probes: number, seed: number, options: HvpOptions = {},
): Promise<TraceEstimate> {
  if (!Number.isInteger(probes) || probes < 2) throw new ConfigError(`hutchinsonTrace: probes must be an integer ≥ 2, got ${probes}`);
  const values: number[] = [];
  for (let probe = 0; probe < probes; probe++) {
    const v = new Float64Array(problem.dim);
    for (let i = 0; i < v.length; i++) v[i] = uniformAt(seed, probe, i) < 0.5 ? -1 : 1;
    values.push(dot(v, await hessianVectorProduct(problem, theta, v, options)));
  }
  return { ...meanInterval(values), values };
}

/** Ritz values θ_j and Gauss weights τ_j² (squared first components of the Ritz vectors) of Lanczos. */
export interface LanczosQuadrature {
  nodes: number[];
  weights: number[];
}

/**
 * k steps of Lanczos with full reorthogonalisation (Golub & Van Loan §10.1) on the HVP operator from
 * the unit vector along `start`. The Ritz values approximate the spectrum (extremes first; all of it
 * when k = d), and (nodes, weights) is the Gauss quadrature of the spectral measure seen from `start`
 * used by stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017).
 */
export async function lanczosQuadrature(
  problem: DifferentiableProblem, theta: Float64Array, start: Float64Array, iterations: number, options: HvpOptions = {},
): Promise<LanczosQuadrature> {
  if (!Number.isInteger(iterations) || iterations < 1) throw new ConfigError(`lanczos: iterations must be a positive integer, got ${iterations}`);
  const k = Math.min(iterations, problem.dim);
  const basis: Float64Array[] = [];
  const alphas: number[] = [];
  const betas: number[] = [];
  let q = scaled(start, 1 / norm(start));
  for (let j = 0; j < k; j++) {
    basis.push(q);
    let w = await hessianVectorProduct(problem, theta, q, options);
    const alpha = dot(q, w);
    alphas.push(alpha);
    // Reorthogonalise twice: "twice is enough" (Kahan), keeping the basis orthonormal to rounding.
    for (let pass = 0; pass < 2; pass++) for (const previous of basis) w = addScaled(w, -dot(previous, w), previous);
    const beta = norm(w);
    if (j === k - 1 || beta < 1e-12 * Math.max(1, Math.abs(alpha))) break;
    betas.push(beta);
    q = scaled(w, 1 / beta);
  }
  const n = alphas.length;
  const tridiagonal = Matrix.zeros(n, n);
  for (let i = 0; i < n; i++) {
    tridiagonal.set(i, i, alphas[i]!);
    if (i + 1 < n) {
      tridiagonal.set(i, i + 1, betas[i]!);
      tridiagonal.set(i + 1, i, betas[i]!);
    }
  }
  const eig = new EigenvalueDecomposition(tridiagonal, { assumeSymmetric: true });
  const vectors = eig.eigenvectorMatrix;
  return { nodes: eig.realEigenvalues, weights: eig.realEigenvalues.map((_, j) => vectors.get(0, j) ** 2) };
}

export interface LanczosResult {
  /** Ritz values, largest first; the extremes converge first. */
  ritzValues: number[];
  /** largest and smallest Ritz value: estimates of λ_max and λ_min. */
  top: number;
  bottom: number;
  iterations: number;
}

/** Lanczos from a Gaussian start: Ritz values with k = min(iterations, d) steps. */
export async function lanczos(
  problem: DifferentiableProblem, theta: Float64Array, iterations: number, seed: number, options: HvpOptions = {},
): Promise<LanczosResult> {
  const start = new Float64Array(problem.dim);
  for (let i = 0; i < start.length; i++) start[i] = normalAt(seed, 0, i);
  const { nodes } = await lanczosQuadrature(problem, theta, start, iterations, options);
  const ritzValues = [...nodes].sort((a, b) => b - a);
  return { ritzValues, top: ritzValues[0]!, bottom: ritzValues[ritzValues.length - 1]!, iterations: ritzValues.length };
}

export interface EffectiveRankEstimate {
  trace: TraceEstimate;
  spectrum: LanczosResult;
  /** tr(H)/‖H‖_op with ‖H‖_op = max(|λ_max|, |λ_min|). */
  effectiveRank: number;
  /** effective rank ÷ d: how far below the ambient dimension the premise puts ZO's slowdown. */
  relativeToDimension: number;
}

export async function hessianEffectiveRank(
  problem: DifferentiableProblem, theta: Float64Array,
  options: { probes?: number; lanczosIterations?: number; seed?: number } & HvpOptions = {},
): Promise<EffectiveRankEstimate> {
  const { probes = 32, lanczosIterations = 30, seed = 0 } = options;
  const trace = await hutchinsonTrace(problem, theta, probes, seed, options);
  const spectrum = await lanczos(problem, theta, lanczosIterations, seed + 1, options);
  const operatorNorm = Math.max(Math.abs(spectrum.top), Math.abs(spectrum.bottom));
  const effectiveRank = operatorNorm === 0 ? 0 : trace.mean / operatorNorm;
  return { trace, spectrum, effectiveRank, relativeToDimension: effectiveRank / problem.dim };
}
