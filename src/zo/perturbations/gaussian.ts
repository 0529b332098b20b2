/**
 * Gaussian perturbation over every trainable parameter (MeZO, zo-estimators.md §1.1):
 * Z_k[i] = normal(noiseKey(seed, k, zo.gaussian), i), regenerated in place by the fused `perturbInPlace`
 * kernel, so no buffer of z ever exists. The counter RNG keys each tensor separately, so a tensor's
 * z does not depend on the sizes or order of the others (the §1.2 pitfall of one reseeded generator).
 */
import { BuiltinNoisePurpose, noiseKey } from '../../kernels/noiseStreams.ts';
import { ops, type Param, type Tensor } from '../../tensor/index.ts';
import type { Direction, Perturbation } from '../types.ts';

export function gaussianDirection(seed: number): Direction {
  return {
    seed,
    addTo(param: Param, target: Tensor, scale: number, decay = 1): void {
      ops.perturbInPlace(target, noiseKey(seed, param.index, BuiltinNoisePurpose.gaussian), scale, decay);
    },
  };
}

export const gaussian: Perturbation<null, never> = {
  kind: 'perturbation',
  name: 'gaussian',
  description: 'z ~ N(0, I) over all trainable parameters, regenerated in place from the counter RNG (MeZO)',
  options: {},
  init: () => null,
  beginStep: () => null,
  direction: async (_ctx, _state, seed) => gaussianDirection(seed),
  endStep: () => null,
  dispose: () => {},
};
