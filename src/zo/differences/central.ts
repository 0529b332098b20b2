/**
 * Central two-point difference (SPSA, MeZO Def. 1): c = (L(θ+εZ) − L(θ−εZ)) / (2ε), float64.
 * Exact for quadratics (c = Zᵀ∇f for every ε, up to the cancellation error ≈ 2⁻²⁴|f|/ε of float32
 * losses); bias (ε²/6)∇³f[Z,Z,Z] + O(ε⁴) otherwise (zo-estimators.md §5.4–5.5). 2 forward passes.
 */
import type { DifferenceScheme } from '../types.ts';

export const central: DifferenceScheme<never> = {
  kind: 'difference',
  name: 'central',
  description: 'c = (L(θ+εz) − L(θ−εz)) / 2ε; 2 forward passes per query',
  options: {},
  points: [1, -1],
  needsBaseLoss: false,
  projectedGradient: ([plus, minus], _base, eps) => (plus! - minus!) / (2 * eps),
};
