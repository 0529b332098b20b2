/**
 * Per-layer (layerwise) weight updates (GaLore paper §4.3, after LOMO/AdaLomo; galore.md §3.2; the
 * only mode of a `fusedBackward` rule such as AdaLomo):
 * the optimizer updates each parameter from the tape's `onParamGrad` hook the moment that
 * parameter's gradient is complete, and the tape frees the gradient right after, so gradients of
 * all layers never exist together. The ledger's gradient peak becomes the gradients in flight
 * (normally one parameter's; a tied embedding's gradient stays live from the head to the input
 * embedding) instead of the whole model's.
 *
 * Each update reads only its own gradient, so with no accumulation and no global-norm clipping
 * the result equals a normal step exactly (galore.md §6.17). That is why this mode takes one loss
 * closure per step and offers neither gradient accumulation nor clipping (the reference steps per
 * micro-batch silently and its clipping is a no-op; §3.2): callers that need those use the normal step.
 */
import { disposeGrads, type ParamGradCallback, valueAndGrad } from '../nn/tape.ts';
import type { ParamStore } from '../tensor/params.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { ParamOptimizer } from './optimizer.ts';

/** The tape hook that applies `optimizer`'s update to each parameter as its gradient completes. */
export function perLayerUpdates(optimizer: ParamOptimizer): ParamGradCallback {
  return (param, grad) => optimizer.stepParam(param, grad);
}

/** One training step with per-layer updates; returns the loss (evaluated before the update). */
export async function perLayerStep(params: ParamStore, optimizer: ParamOptimizer, lossFn: () => Tensor): Promise<number> {
  const { loss } = await valueAndGrad(params, lossFn, { onParamGrad: perLayerUpdates(optimizer) });
  return loss;
}

/** One normal step: all gradients, then the optimizer, then free the gradients; returns the loss. */
export async function globalStep(params: ParamStore, optimizer: ParamOptimizer, lossFn: () => Tensor): Promise<number> {
  const { loss, grads } = await valueAndGrad(params, lossFn);
  try {
    await optimizer.step(grads);
  } finally {
    disposeGrads(grads);
  }
  return loss;
}
