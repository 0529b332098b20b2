/**
 * The shape every optimizer of the backprop path has (RuleOptimizer, LoRA/ReLoRA's wrapper): a
 * per-parameter `stepParam`, so per-layer mode can run it from the tape's gradient hook, and a
 * whole-model `step`, plus a settable lr and the parameter list. Each parameter keeps its own
 * update counter, as PyTorch optimizers do; under a normal step all counters move together. Steps
 * are asynchronous: a rule may read its input on the host (`await read()` works on every backend).
 */
import type { Param } from '../tensor/params.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** Gradients by parameter (or parameter name), or a lookup. */
export type GradientSource = ReadonlyMap<Param, Tensor> | ReadonlyMap<string, Tensor> | ((param: Param) => Tensor | undefined);

/** Checkpoint form of an optimizer's state: JSON counters plus named float tensors. */
export interface OptimizerState {
  json: unknown;
  tensors: Record<string, Float32Array>;
}

export interface ParamOptimizer {
  readonly name: string;
  /** learning rate of the next update; a schedule sets it before each step. */
  lr: number;
  /** the parameters it updates, in ParamStore order. */
  readonly params: readonly Param[];
  /** updates every parameter that has a gradient, in order (a map from the tape, or a lookup); gradients are read, not freed. */
  step(grads: GradientSource): Promise<void>;
  /** the same update for one parameter: per-layer updates from the tape's onParamGrad hook. */
  stepParam(param: Param, grad: Tensor): Promise<void>;
  /** bytes of optimizer state allocated so far (also charged to the ledger as 'optimizerState'). */
  stateBytes(): number;
  /** everything the next step depends on (moments, 8-bit codes, projector bases, counters). */
  saveState(): Promise<OptimizerState>;
  /** restores `saveState()` output into a fresh optimizer over the same parameters; the next step is identical. */
  loadState(state: OptimizerState): void;
  /** frees every state buffer. */
  dispose(): void;
}

export function gradientFor(grads: GradientSource, param: Param): Tensor | undefined {
  if (typeof grads === 'function') return grads(param);
  const byParam = (grads as ReadonlyMap<unknown, Tensor>).get(param);
  return byParam ?? (grads as ReadonlyMap<unknown, Tensor>).get(param.name);
}
