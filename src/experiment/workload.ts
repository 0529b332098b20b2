/**
 * A workload is what a run trains: a model's parameters on an engine, bound to a task's data, seen
 * only through a loss. Methods never touch examples or tokens; the runner never touches the model.
 *
 * A workload provider builds one from (task, model, taskOptions) and registers under the task
 * names it serves. The e-mail task over the pretrained transformers lives in spamWorkload.ts; the
 * synthetic tasks in synthetic.ts.
 */
import { ConfigError } from '../kernels/errors.ts';
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

export function registerWorkload(task: string, provider: WorkloadProvider): void {
  providers.set(task, provider);
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
