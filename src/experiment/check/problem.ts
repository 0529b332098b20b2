/**
 * `modelProblem`: a zolo model bound to one fixed batch, seen by the assumption checkers as a
 * `DifferentiableProblem` over the flat vector θ of its trainable parameters (store.trainable()
 * order, each tensor row-major — the order ZO noise streams use).
 *
 * Contract: loss(θ) and gradient(θ) write θ into the ParamStore (rounded to float32, the models'
 * precision), evaluate, and write the starting values back bit for bit, so a check never leaves
 * the model perturbed. The gradient is the tape's (exact up to float32 rounding of the forward
 * kernels), widened to float64; a trainable parameter that does not influence the loss gets zeros.
 * Host memory: a few float64 copies of θ (8 bytes × d each).
 */
import { ConfigError, ShapeError } from '../../errors.ts';
import type { DifferentiableProblem } from '../../assumptions/problem.ts';
import type { TokenBatch } from '../../nn/batch.ts';
import type { Model } from '../../nn/model.ts';
import { disposeGrads, valueAndGrad } from '../../nn/tape.ts';
import type { Param, ParamStore } from '../../tensor/params.ts';
import type { Batch, LossAndGradients, Workload } from '../workload.ts';

/** A loss and its tape gradients at whatever the store currently holds, for one fixed batch. */
export interface BoundObjective {
  readonly params: ParamStore;
  loss(): Promise<number>;
  lossAndGradients(): Promise<LossAndGradients>;
}

export interface ParamSlice {
  readonly param: Param;
  /** offset of the tensor's first value in θ. */
  readonly offset: number;
  readonly size: number;
}

export interface ModelProblem extends DifferentiableProblem {
  readonly objective: BoundObjective;
  readonly slices: readonly ParamSlice[];
  /** the parameters the problem started from (float32 values widened), a fresh copy. */
  start(): Float64Array;
  /** writes the starting values back into the store (bit-identical). */
  restore(): void;
  /** loss and gradient at θ in one tape pass. */
  lossAndGradient(theta: Float64Array): Promise<{ loss: number; gradient: Float64Array }>;
}

export function modelObjective<B extends TokenBatch>(model: Model<B>, batch: B): BoundObjective {
  return {
    params: model.params,
    loss: () => model.loss(batch),
    async lossAndGradients() {
      const { loss, grads } = await valueAndGrad(model.params, () => model.lossTensor(batch));
      return { loss, gradients: grads };
    },
  };
}

export function workloadObjective(workload: Workload, batch: Batch): BoundObjective {
  const { lossAndGradients } = workload;
  if (!lossAndGradients) throw new ConfigError('this task/model has no tape gradients (workload.lossAndGradients); zolo check needs them');
  return {
    params: workload.params,
    loss: () => workload.loss(batch),
    lossAndGradients: () => lossAndGradients.call(workload, batch),
  };
}

/** Snapshot of the trainable parameters' current values; the problem restores to it. */
export async function modelProblem(objective: BoundObjective): Promise<ModelProblem> {
  const params = objective.params.trainable();
  const slices: ParamSlice[] = [];
  let dim = 0;
  for (const param of params) {
    slices.push({ param, offset: dim, size: param.tensor.size });
    dim += param.tensor.size;
  }
  const origin = await Promise.all(params.map((param) => param.tensor.read()));
  const backend = objective.params.engine.backend;

  const restore = (): void => {
    slices.forEach((slice, k) => backend.write(slice.param.tensor.buffer, origin[k]!));
  };
  const write = (theta: Float64Array): void => {
    if (theta.length !== dim) throw new ShapeError(`modelProblem: θ has ${theta.length} values, the trainable parameters ${dim}`);
    for (const slice of slices) backend.write(slice.param.tensor.buffer, Float32Array.from(theta.subarray(slice.offset, slice.offset + slice.size)));
  };
  const at = async <T>(theta: Float64Array, evaluate: () => Promise<T>): Promise<T> => {
    write(theta);
    try {
      return await evaluate();
    } finally {
      restore();
    }
  };
  const gradientHere = async (): Promise<{ loss: number; gradient: Float64Array }> => {
    const { loss, gradients } = await objective.lossAndGradients();
    try {
      const gradient = new Float64Array(dim);
      for (const slice of slices) {
        const grad = gradients.get(slice.param);
        if (grad) gradient.set(await grad.read(), slice.offset);
      }
      return { loss, gradient };
    } finally {
      disposeGrads(gradients);
    }
  };

  return {
    dim,
    objective,
    slices,
    start() {
      const theta = new Float64Array(dim);
      slices.forEach((slice, k) => theta.set(origin[k]!, slice.offset));
      return theta;
    },
    restore,
    loss: (theta) => at(theta, () => objective.loss()),
    gradient: async (theta) => (await at(theta, gradientHere)).gradient,
    lossAndGradient: (theta) => at(theta, gradientHere),
  };
}
