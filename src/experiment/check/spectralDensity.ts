/**
 * Stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017, SIAM J. Matrix Anal. Appl. 38(4)):
 * tr f(H) ≈ (1/P) Σ_p vₚᵀ f(H) vₚ with Rademacher vₚ (‖vₚ‖² = d), and each quadratic form by the
 * k-point Gauss quadrature of k Lanczos steps started at vₚ/‖vₚ‖:
 *   vᵀ f(H) v ≈ d · Σ_j τ_j² f(θ_j),   θ_j Ritz values, τ_j first components of T's eigenvectors.
 * Exact for polynomials of degree ≤ 2k − 1 (so tr H equals Hutchinson's estimate on the same probes).
 *
 * Why here: MeZO's Assumption 1 bounds ∇²f ≼ H with H ⪰ 0 and tr(H) ≤ r‖H‖_op. At an indefinite
 * ∇²f (any point off a minimum) tr(∇²f) lets negative curvature cancel positive curvature, so
 * tr(∇²f)/λ_max understates r; the smallest admissible H is the positive part ∇²f₊, whose trace
 * SLQ estimates (f(x) = max(x, 0)). r₊ = tr(∇²f₊)/λ_max is then the effective rank MeZO's bound
 * can use at θ. Accuracy: the quadrature error for the kink at 0 decays like O(1/k) per probe
 * (Ubaru et al. Thm 4.1 for non-smooth f); the probe average adds a CLT error, reported as SE.
 */
import { type HvpOptions, lanczosQuadrature } from '../../assumptions/hessian.ts';
import type { DifferentiableProblem } from '../../assumptions/problem.ts';
import { type MeanInterval, meanInterval } from '../../assumptions/vectors.ts';
import { ConfigError } from '../../errors.ts';
import { uniformAt } from '../../kernels/rng.ts';

export interface SpectralTraces {
  probes: number;
  iterations: number;
  /** tr(H) (equals Hutchinson on these probes). */
  trace: MeanInterval;
  /** tr(H₊) = Σ max(λᵢ, 0). */
  positiveTrace: MeanInterval;
  /** tr(|H|) = Σ |λᵢ|. */
  absoluteTrace: MeanInterval;
  /** the largest Ritz value seen over all probes: a lower bound on λ_max. */
  largestRitz: number;
  smallestRitz: number;
}

export async function spectralTraces(
  problem: DifferentiableProblem, theta: Float64Array,
  options: { probes: number; iterations: number; seed: number } & HvpOptions,
): Promise<SpectralTraces> {
  const { probes, iterations, seed } = options;
  if (!Number.isInteger(probes) || probes < 2) throw new ConfigError(`spectralTraces: probes must be an integer ≥ 2, got ${probes}`);
  if (!Number.isInteger(iterations) || iterations < 1) throw new ConfigError(`spectralTraces: iterations must be a positive integer, got ${iterations}`);
  const traces: number[] = [];
  const positive: number[] = [];
  const absolute: number[] = [];
  let largestRitz = -Infinity;
  let smallestRitz = Infinity;
  for (let p = 0; p < probes; p++) {
    const v = new Float64Array(problem.dim);
    // stream offset 1000 keeps these probes apart from hutchinsonTrace's (streams 0…probes−1)
    for (let i = 0; i < v.length; i++) v[i] = uniformAt(seed, 1000 + p, i) < 0.5 ? -1 : 1;
    const { nodes, weights } = await lanczosQuadrature(problem, theta, v, Math.min(iterations, problem.dim), options);
    const quadrature = (f: (x: number) => number): number => problem.dim * nodes.reduce((s, x, j) => s + weights[j]! * f(x), 0);
    traces.push(quadrature((x) => x));
    positive.push(quadrature((x) => Math.max(x, 0)));
    absolute.push(quadrature(Math.abs));
    largestRitz = Math.max(largestRitz, ...nodes);
    smallestRitz = Math.min(smallestRitz, ...nodes);
  }
  return {
    probes, iterations,
    trace: meanInterval(traces),
    positiveTrace: meanInterval(positive),
    absoluteTrace: meanInterval(absolute),
    largestRitz, smallestRitz,
  };
}
