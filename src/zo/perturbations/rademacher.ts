/**
 * Rademacher perturbation: Z[i] = sign(normal(noiseKey(seed, k, zo.gaussian), i)) ∈ {−1, +1}, equiprobable
 * because the normal is symmetric (P(normal = 0) is zero for Box–Muller on centred 24-bit uniforms).
 * E[Z Zᵀ] = I, so ĝ = c·Z is unbiased like the Gaussian estimate, with second moment
 * E‖(Zᵀg)Z‖² = d‖g‖² (vs (d+2)‖g‖² for Gaussian). Cost: one transient workspace buffer the size of
 * the tensor being perturbed — the paper's worst-case MeZO memory (§1.2), not zero like `gaussian`.
 */
import { BuiltinNoisePurpose, noiseKey } from '../../kernels/noiseStreams.ts';
import { ops, type Param, type Tensor } from '../../tensor/index.ts';
import type { Direction, Perturbation } from '../types.ts';

function rademacherDirection(seed: number): Direction {
  return {
    seed,
    addTo(param: Param, target: Tensor, scale: number, decay = 1): void {
      const engine = target.engine;
      const signs = ops.randomNormal(engine, param.tensor.shape, noiseKey(seed, param.index, BuiltinNoisePurpose.gaussian), 'workspace');
      engine.backend.unary('sign', signs.buffer, signs.buffer);
      engine.backend.axpby(scale, signs.buffer, decay, target.buffer);
      signs.dispose();
    },
  };
}

export const rademacher: Perturbation<null, never> = {
  kind: 'perturbation',
  name: 'rademacher',
  description: 'z ∈ {±1} i.i.d. (sign of the counter-RNG normal); one transient buffer per tensor',
  options: {},
  init: () => null,
  beginStep: () => null,
  direction: async (_ctx, _state, seed) => rademacherDirection(seed),
  endStep: () => null,
  dispose: () => {},
};
