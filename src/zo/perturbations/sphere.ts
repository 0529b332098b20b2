/**
 * Sphere perturbation: Z = √d · g/‖g‖ with g the Gaussian direction over all d trainable values,
 * i.e. uniform on the sphere of radius √d — the distribution MeZO's theory assumes (§4, Lemma 2:
 * E‖ĝ_n‖² = (d+n−1)/n·‖g‖²). ‖g‖ is computed once per direction from the regenerated normals (one
 * transient buffer per tensor, float64 accumulation); afterwards Z is applied by the fused kernel.
 */
import { BuiltinNoisePurpose, noiseKey } from '../../kernels/noiseStreams.ts';
import { ops, type Param, type Tensor } from '../../tensor/index.ts';
import type { Direction, PartContext, Perturbation } from '../types.ts';

async function sphereDirection(ctx: PartContext, seed: number): Promise<Direction> {
  let sumSquares = 0;
  let dimension = 0;
  for (const param of ctx.params) {
    const normals = ops.randomNormal(ctx.engine, param.tensor.shape, noiseKey(seed, param.index, BuiltinNoisePurpose.gaussian), 'workspace');
    sumSquares += await ops.sumSquares(normals);
    dimension += normals.size;
    normals.dispose();
  }
  const radiusScale = Math.sqrt(dimension / sumSquares);
  return {
    seed,
    addTo(param: Param, target: Tensor, scale: number, decay = 1): void {
      ops.perturbInPlace(target, noiseKey(seed, param.index, BuiltinNoisePurpose.gaussian), scale * radiusScale, decay);
    },
  };
}

export const sphere: Perturbation<null, never> = {
  kind: 'perturbation',
  name: 'sphere',
  description: 'z uniform on the √d-sphere (normalised Gaussian over all trainable parameters; MeZO §4 theory)',
  options: {},
  init: () => null,
  beginStep: () => null,
  direction: (ctx, _state, seed) => sphereDirection(ctx, seed),
  endStep: () => null,
  dispose: () => {},
};
