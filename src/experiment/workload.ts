/**
 * A workload is what a run trains: a model's parameters on an engine, bound to a task's data, seen
 * only through a loss. Methods never touch examples or tokens; the runner never touches the model.
 *
 * A workload provider builds one from (task, model, taskOptions) and registers under the task
 * names it serves. The e-mail task over the pretrained transformers lives in spamWorkload.ts; the
 * synthetic tasks in synthetic.ts.
 */
import type { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { issueToConfigError } from './config.ts';
import type { Linear } from '../nn/linear.ts';
import { type SafetensorsEntry, writeSafetensors } from '../nn/safetensors.ts';
import type { ParamGradCallback } from '../nn/tape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Engine } from '../tensor/tensor.ts';
import type { Param, ParamStore } from '../tensor/params.ts';

/** Indices into the training split; the workload turns them into model inputs. */
export type Batch = readonly number[];

/** The held-out splits: validation steers every choice (selection, early stopping); test is only reported. */
export type EvalSplit = 'validation' | 'test';

/** The task's data splits, for what reads a whole split (baselines, class priors). */
export const DATA_SPLITS = ['train', 'validation', 'test'] as const;
export type DataSplit = (typeof DATA_SPLITS)[number];

export interface EvalResult {
  accuracy: number;
  loss: number;
}

export interface LossAndGradients {
  loss: number;
  /** one gradient per trainable parameter, category 'gradient'; the caller disposes them. */
  gradients: Map<Param, Tensor>;
}

export interface Workload {
  readonly engine: Engine;
  readonly params: ParamStore;
  /** number of training examples the data order cycles over. */
  readonly trainSize: number;
  /** number of validation examples. */
  readonly validationSize: number;
  /** number of test examples. */
  readonly testSize: number;
  /** Mean training loss of a batch: one forward pass, no gradients. */
  loss(batch: Batch): Promise<number>;
  /**
   * The training loss of each example of a batch (float32, batch order), from one forward pass:
   * `loss(batch)` is exactly `meanOfRowLosses(exampleLosses(batch), null)`, and an example's loss
   * does not depend on the other examples of the batch (the kernels treat rows independently), so
   * data-parallel replicas can each compute a slice of a batch and reproduce `loss` bit for bit.
   * Absent for tasks whose loss is not a plain mean over examples.
   */
  exampleLosses?(batch: Batch): Promise<Float32Array>;
  /**
   * Loss and gradients of the trainable parameters (backprop path); absent without a tape. With
   * `onParamGrad` each gradient is handed over as soon as it is complete and freed after the call
   * (per-layer updates, GaLore §3.2), and the returned map is empty.
   */
  lossAndGradients?(batch: Batch, onParamGrad?: ParamGradCallback): Promise<LossAndGradients>;
  /** The model's Linear layers by module path, where adapters attach; absent for models without any. */
  linears?(): ReadonlyMap<string, Linear>;
  /** Accuracy and mean loss on the first `size` examples of a held-out split (0 = all). */
  evaluate(size: number, split: EvalSplit): Promise<EvalResult>;
  /**
   * Saves the current weights as one self-contained model file at `path` (src/nn checkpoint format
   * plus whatever card `zolo predict` needs). Absent when the model has no saved form; the runner
   * then saves the bare parameters.
   */
  saveModel?(path: string): Promise<void>;
  /**
   * Class labels of every example of a split, in the split's order (the order `evaluate` and
   * `pooledFeatures` index). Absent for tasks without classes. Baselines that need no model
   * (the class prior) and the reports' class prior read it.
   */
  labels?(split: DataSplit): Int32Array;
  /**
   * Frozen features of the examples at `indices` of a split, row-major [indices.length, featureDim]:
   * the model's final hidden states averaged over each example's real tokens (one inference
   * forward pass, no tape). Absent for models without hidden states.
   */
  pooledFeatures?(split: DataSplit, indices: Batch): Promise<Float32Array>;
  /** the width of a `pooledFeatures` row. */
  readonly featureDim?: number;
  dispose(): void;
}

export interface WorkloadRequest {
  task: string;
  model: string;
  taskOptions: Record<string, unknown>;
  seed: number;
  engine: Engine;
}

export type WorkloadProvider = (request: WorkloadRequest) => Promise<Workload>;

const providers = new Map<string, WorkloadProvider>();
const optionSchemas = new Map<string, z.ZodType>();

/**
 * Registers a task. `optionsSchema` (strict) validates `taskOptions` up front — in `zolo config`,
 * suites and `zolo run` alike — so a typo is refused before any folder is made, not when the
 * workload is built. A task name already registered is a ConfigError.
 */
export function registerWorkload(task: string, provider: WorkloadProvider, optionsSchema?: z.ZodType): void {
  if (providers.has(task)) throw new ConfigError(`a task named "${task}" is already registered`);
  providers.set(task, provider);
  if (optionsSchema) optionSchemas.set(task, optionsSchema);
}

/** Validates `taskOptions` for `task` against its registered schema (ConfigError naming the field). */
export function checkTaskOptions(task: string, taskOptions: Record<string, unknown>): void {
  const schema = optionSchemas.get(task);
  if (!schema) return;
  const parsed = schema.safeParse(taskOptions, { reportInput: true });
  if (!parsed.success) throw issueToConfigError(schema, parsed.error.issues[0]!, 'taskOptions');
}

export function registeredTasks(): string[] {
  return [...providers.keys()];
}

export async function createWorkload(request: WorkloadRequest): Promise<Workload> {
  const provider = providers.get(request.task);
  if (!provider) throw new ConfigError(`task must be one of ${registeredTasks().join(', ')}, got "${request.task}"`);
  return provider(request);
}

/** Format tag of a bare parameter file (every parameter under its name; what replay and the runner read). */
export const PARAMS_FORMAT = 'zolo-params/1';

/** Writes every parameter of `params` under its name, with `metadata` and the format tag. */
export async function saveParams(path: string, params: ParamStore, metadata: Record<string, string>): Promise<void> {
  const values = await params.snapshot();
  const entries: [string, SafetensorsEntry][] = params.all().map((param) => [param.name, { shape: [...param.tensor.shape], data: values.get(param.name)! }]);
  await writeSafetensors(path, entries, { ...metadata, 'zolo.format': PARAMS_FORMAT });
}
