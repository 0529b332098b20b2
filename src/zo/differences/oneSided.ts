/**
 * One-sided (forward) difference (ZO-Bench `--perturbation_mode one_side`, zo-estimators.md §1.5):
 * c = (L(θ+εZ) − L(θ)) / ε, float64. L(θ) is evaluated once per step and shared by the q queries, so
 * a step costs 1 + q forward passes (2 for q = 1, as in ZO-Bench). Bias O(ε)·Zᵀ∇²f Z/2.
 */
import type { DifferenceScheme } from '../types.ts';

export const oneSided: DifferenceScheme<never> = {
  kind: 'difference',
  name: 'oneSided',
  description: 'c = (L(θ+εz) − L(θ)) / ε; L(θ) shared by the queries: 1 + q forward passes',
  options: {},
  points: [1],
  needsBaseLoss: true,
  projectedGradient: ([plus], base, eps) => (plus! - base!) / eps,
};
