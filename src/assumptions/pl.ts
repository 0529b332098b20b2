/**
 * Polyak–Łojasiewicz indicator along a trajectory: f satisfies PL with constant μ when
 * ‖∇f(θ)‖² ≥ 2μ(f(θ) − f*) (MeZO Lemma 3 assumes it). For a μ-strongly convex quadratic the ratio
 * ‖∇f‖²/(2(f − f*)) is ≥ μ everywhere and tends to μ along gradient descent.
 *
 * f* is rarely known for a model: pass a lower estimate (e.g. 0 for cross-entropy); a lower f* makes
 * the ratios smaller, so the reported μ stays a conservative (lower) estimate.
 */
import { ConfigError } from '../errors.ts';

export interface TrajectoryPoint {
  step: number;
  loss: number;
  gradientNormSquared: number;
}

export interface PlIndicator {
  /** per point: ‖∇f‖²/(2(f − f*)); Infinity where f = f*. */
  ratios: { step: number; ratio: number }[];
  /** smallest ratio: the PL constant the trajectory supports. */
  muEstimate: number;
  median: number;
}

export function plIndicator(points: readonly TrajectoryPoint[], fStar: number): PlIndicator {
  if (points.length === 0) throw new ConfigError('plIndicator: needs at least one trajectory point');
  const ratios = points.map((p) => {
    if (p.loss < fStar) throw new ConfigError(`plIndicator: loss ${p.loss} at step ${p.step} is below f* = ${fStar}; pass a lower f*`);
    const gap = p.loss - fStar;
    return { step: p.step, ratio: gap === 0 ? Infinity : p.gradientNormSquared / (2 * gap) };
  });
  const sorted = ratios.map((r) => r.ratio).sort((a, b) => a - b);
  return { ratios, muEstimate: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]! };
}
