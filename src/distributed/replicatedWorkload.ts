/**
 * The seam between a run and its replica group: the workload's training loss is computed by the
 * group (each member its rows, folded in batch order), and each step is announced to the group
 * before the method takes it. Evaluation, data and parameters stay local; the method is unchanged,
 * so a replicated step is the single-process step with the same losses.
 */
import { ConfigError } from '../errors.ts';
import type { TrainingMethod } from '../experiment/method.ts';
import type { Workload } from '../experiment/workload.ts';
import type { ReplicaGroup } from './replicaGroup.ts';

export function replicatedWorkload(inner: Workload, group: ReplicaGroup, task: string): Workload {
  const exampleLosses = inner.exampleLosses?.bind(inner);
  if (!exampleLosses) throw new ConfigError(`task ${task} gives no per-example losses, so its batches cannot be split among replicas; use --replicas with spam or synthetic-blobs`);
  return { ...inner, loss: (batch) => group.batchLoss(batch, exampleLosses) };
}

/** Runs `beforeStep(step)` before, and `afterStep(step, log)` after, each step of `inner`. */
export function announcedMethod(
  inner: TrainingMethod,
  beforeStep: (step: number) => Promise<void>,
  afterStep: (step: number, log: unknown) => Promise<void>,
): TrainingMethod {
  return {
    ...inner,
    async step(batch, context) {
      await beforeStep(context.step);
      const result = await inner.step(batch, context);
      // a step that produced no log line did not happen (the estimator restored θ on divergence)
      if (result.log !== undefined) await afterStep(context.step, result.log);
      return result;
    },
  };
}
