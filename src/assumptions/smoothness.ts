/**
 * Local smoothness: the Lipschitz constant L of ∇f near θ, which sets the safe step size of every
 * method here (ZO-SGD's η = 1/(tr(A)+2L) in zo-estimators.md §5.10; GaLore Thm 3.8's L_A, L_B).
 *
 * Along a unit direction u, ‖∇f(θ + ρu) − ∇f(θ)‖/ρ is a lower bound on the local L (for a
 * quadratic it is ‖Au‖ exactly, and its maximum over u is L). Random directions show the typical
 * curvature, the gradient direction the curvature the optimizer actually meets; the largest ratio
 * seen is reported as a lower bound, and Lanczos (hessian.ts) gives the spectral estimate.
 */
import { ConfigError } from '../errors.ts';
import { normalAt } from '../kernels/rng.ts';
import type { DifferentiableProblem } from './problem.ts';
import { addScaled, type MeanInterval, meanInterval, norm, scaled } from './vectors.ts';

export interface LipschitzEstimate {
  /** ratios along random Gaussian directions. */
  random: MeanInterval & { max: number };
  /** ratio along the normalised gradient, one per radius. */
  gradientDirection: { radius: number; ratio: number }[];
  /** the largest ratio observed: a lower bound on the local L. */
  lowerBound: number;
}

export async function gradientLipschitz(
  problem: DifferentiableProblem, theta: Float64Array,
  options: { directions?: number; radius?: number; radii?: number[]; seed?: number } = {},
): Promise<LipschitzEstimate> {
  const { directions = 16, radius = 1e-3, radii = [1e-3, 1e-2, 1e-1], seed = 0 } = options;
  if (!(radius > 0) || radii.some((r) => !(r > 0))) throw new ConfigError(`gradientLipschitz: radii must be positive, got ${[radius, ...radii].join(', ')}`);
  const base = await problem.gradient(theta);
  const ratioAlong = async (u: Float64Array, rho: number): Promise<number> => {
    const moved = await problem.gradient(addScaled(theta, rho, u));
    let acc = 0;
    for (let i = 0; i < moved.length; i++) acc += (moved[i]! - base[i]!) ** 2;
    return Math.sqrt(acc) / rho;
  };
  const ratios: number[] = [];
  for (let j = 0; j < directions; j++) {
    const u = new Float64Array(problem.dim);
    for (let i = 0; i < u.length; i++) u[i] = normalAt(seed, j, i);
    ratios.push(await ratioAlong(scaled(u, 1 / norm(u)), radius));
  }
  const gradientNorm = norm(base);
  const gradientDirection: { radius: number; ratio: number }[] = [];
  if (gradientNorm > 0) {
    const u = scaled(base, 1 / gradientNorm);
    for (const rho of radii) gradientDirection.push({ radius: rho, ratio: await ratioAlong(u, rho) });
  }
  const max = Math.max(...ratios);
  return {
    random: { ...meanInterval(ratios), max },
    gradientDirection,
    lowerBound: Math.max(max, ...gradientDirection.map((g) => g.ratio)),
  };
}
