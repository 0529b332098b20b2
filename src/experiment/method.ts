/**
 * Method adapters: the one interface through which the runner drives every fine-tuning method.
 * Four families plug in here — zeroth-order estimators (every preset of src/zo, adapted on demand),
 * backprop optimizers (src/galore), zero-shot (the model as it is) and baselines (references that never change the model: the class
 * prior, the linear probe on frozen features) — each as a small adapter that turns a method name plus
 * its options into a `TrainingMethod` over a workload. Zero-shot and baselines take no steps.
 *
 * State contract (what makes resume bit-identical): after `loadState(saveState())` on a fresh
 * method over the same parameters, the next `step` does exactly what it would have done. Anything
 * random must derive from (seed, step) or live in the saved state.
 */
import { ConfigError } from '../errors.ts';
import { type BackpropOptimizer, backpropOptimizerNames, isBackpropOptimizer, backpropOptimizer } from '../galore/registry.ts';
import { listPresets, type LoggedStep, type Preset } from '../zo/index.ts';
import { backpropMethod } from './methods/backprop.ts';
import { zoMethod } from './methods/zo.ts';
import type { Batch, EvalResult, EvalSplit, Workload } from './workload.ts';

export type MethodFamily = 'zo' | 'backprop' | 'zero-shot' | 'baseline';

/** Whether the runner trains a method of this family step by step (zero-shot and baselines are evaluated only). */
export function takesSteps(family: MethodFamily): boolean {
  return family === 'zo' || family === 'backprop';
}

export interface StepContext {
  /** 0-based index of this step. */
  step: number;
  /** learning rate for this step after the schedule. */
  lr: number;
}

export interface StepResult {
  /** training loss of the batch at the current parameters (for ZO: mean of the ± evaluations). */
  loss: number;
  /** a JSON-serialisable record appended to DIR/zo-log.jsonl (ZO methods: seeds and projected gradients). */
  log?: unknown;
}

/** Method state as a checkpoint holds it: JSON plus named float tensors. */
export interface MethodState {
  json: unknown;
  tensors: Record<string, Float32Array>;
}

export interface TrainingMethod {
  /** number of trainable scalars after setup (adapters inserted, flags set). */
  trainableParams(): number;
  step(batch: Batch, context: StepContext): Promise<StepResult>;
  /**
   * Training forward passes step `step` will spend, known before it runs, so the runner never
   * overshoots a forward-pass budget. Absent: the runner assumes the previous step's count.
   */
  forwardPassesAt?(step: number): number;
  saveState(): Promise<MethodState>;
  loadState(state: MethodState): void;
  /**
   * Re-applies step `logged.step` from the run's log without a forward pass, exactly as the live
   * step changed the parameters and state (ZO: its seeds and projected gradients), so a replica
   * that joins a run late reaches the run's state. Absent for methods whose steps need data.
   */
  followLogged?(logged: LoggedStep): Promise<void>;
  /**
   * A baseline's own predictions replace the model's: the runner evaluates through this instead of
   * the workload (same contract: the first `size` examples of the split, 0 = all).
   */
  evaluate?(size: number, split: EvalSplit): Promise<EvalResult>;
  /** when set, the runner saves the parameters before the first step to this file in the run folder (replay's start). */
  readonly startFile?: string;
  dispose(): void;
}

export interface MethodContext {
  workload: Workload;
  /** method-specific options from the config, for the factory to validate. */
  options: Record<string, unknown>;
  lr: number;
  /** null = the method's own default. */
  weightDecay: number | null;
  seed: number;
  batchSize: number;
  /** the step budget (schedules that need a horizon use it). */
  steps: number;
}

export interface MethodAdapter {
  readonly name: string;
  readonly family: MethodFamily;
  readonly description: string;
  /**
   * Validates method-specific options without building anything (ConfigError naming
   * `options.<key>` or the factory's field); run, suite and `--check` call it before any folder is made.
   */
  checkOptions(options: Record<string, unknown>): void;
  /** learning rate used when the config leaves `lr` null. */
  readonly defaultLr: number;
  /**
   * True when the method decides itself which parameters train (adapter methods train only their
   * adapters; zero-shot trains nothing), so the config's `trainable` cannot apply to it.
   */
  readonly choosesTrainable?: boolean;
  /**
   * For `zolo config --print`: the weight decay the method uses when the config leaves it null,
   * and, in words, defaults that are only fixed once the model is known (GaLore's per-matrix rank).
   */
  describeDefaults?(options: Record<string, unknown>): { weightDecay?: number; rules?: string[] };
  /**
   * Sets the method up on a fresh workload: inserts adapters (initialised from the seed), sets the
   * trainable flags, allocates optimizer state. On resume the runner then overwrites parameters and
   * state from the checkpoint, so setup must be deterministic in (workload, options, seed).
   */
  create(context: MethodContext): Promise<TrainingMethod>;
}

const adapters = new Map<string, MethodAdapter>();
/** Adapters built on demand, one per registry entry (an entry registered later gets its own). */
const zoAdapters = new WeakMap<Preset, MethodAdapter>();
const backpropAdapters = new WeakMap<BackpropOptimizer, MethodAdapter>();

/** The names the registries of src/zo (presets) and src/galore (backprop optimizers) hold now. */
function registryNames(): string[] {
  return [...listPresets().map((preset) => preset.name), ...backpropOptimizerNames()];
}

/** Registers a method; a name already taken by a method, an estimator preset or a backprop optimizer is a ConfigError. */
export function registerMethod(adapter: MethodAdapter): void {
  if (adapters.has(adapter.name)) throw new ConfigError(`a method named "${adapter.name}" is already registered`);
  if (registryNames().includes(adapter.name)) {
    throw new ConfigError(`a method named "${adapter.name}" cannot be registered: an estimator preset or backprop optimizer of that name is already a method`);
  }
  adapters.set(adapter.name, adapter);
}

/**
 * Every method known now: the registered adapters, then every estimator preset and backprop
 * optimizer in their registries at the time of the call, so one registered after import is a method too.
 */
export function registeredMethods(): string[] {
  return [...new Set([...adapters.keys(), ...registryNames()])];
}

export function methodAdapter(name: string): MethodAdapter {
  const preset = listPresets().find((candidate) => candidate.name === name);
  const backprop = isBackpropOptimizer(name);
  const adapter = adapters.get(name);
  if ([adapter !== undefined, preset !== undefined, backprop].filter(Boolean).length > 1) {
    throw new ConfigError(`method "${name}" is ambiguous: more than one of the registered methods, estimator presets and backprop optimizers carry that name`);
  }
  if (adapter) return adapter;
  if (preset) {
    let zo = zoAdapters.get(preset);
    if (!zo) {
      zo = zoMethod(preset);
      zoAdapters.set(preset, zo);
    }
    return zo;
  }
  if (!backprop) throw new ConfigError(`method must be one of ${registeredMethods().join(', ')}, got "${name}"`);
  const entry = backpropOptimizer(name);
  let method = backpropAdapters.get(entry);
  if (!method) {
    method = backpropMethod(entry);
    backpropAdapters.set(entry, method);
  }
  return method;
}
