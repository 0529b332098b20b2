/**
 * The shape every optimizer of the backprop path has: B's `Optimizer` (src/galore/adamw.ts: a
 * per-parameter `stepParam`, so per-layer mode can run it from the tape's gradient hook, and a
 * whole-model `step`), plus a settable lr and the parameter list. Each parameter keeps its own step
 * counter, as PyTorch optimizers do; under a normal step all counters move together.
 */
import { ConfigError } from '../kernels/errors.ts';
import type { Param } from '../tensor/params.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { Optimizer } from './adamw.ts';

/** Gradients by parameter (or parameter name), or a lookup. */
export type GradientSource = ReadonlyMap<Param, Tensor> | ReadonlyMap<string, Tensor> | ((param: Param) => Tensor | undefined);

/** Checkpoint form of an optimizer's state: JSON counters plus named float tensors. */
export interface OptimizerState {
  json: unknown;
  tensors: Record<string, Float32Array>;
}

export interface ParamOptimizer extends Optimizer {
  /** learning rate of the next update; a schedule sets it before each step. */
  lr: number;
  /** the parameters it updates, in ParamStore order. */
  readonly params: readonly Param[];
  /** updates every parameter that has a gradient, in order (a map from the tape, or a lookup). */
  step(grads: GradientSource): void;
  /** everything the next step depends on (moments, 8-bit codes, projector bases, counters). */
  saveState(): OptimizerState;
  /** restores `saveState()` output into a fresh optimizer over the same parameters; the next step is identical. */
  loadState(state: OptimizerState): void;
}

export function gradientFor(grads: GradientSource, param: Param): Tensor | undefined {
  if (typeof grads === 'function') return grads(param);
  const byParam = (grads as ReadonlyMap<unknown, Tensor>).get(param);
  return byParam ?? (grads as ReadonlyMap<unknown, Tensor>).get(param.name);
}

/** Shared step loop and hyper-parameter checks. */
/** What the checkpoint helpers need from a parameter's state: its step counter and optional projector. */
interface CheckpointedState {
  step: number;
  projector: {
    save(): { json: unknown; tensors: Record<string, Float32Array> };
    load(json: never, tensors: Record<string, Float32Array>): void;
  } | null;
}

interface SavedParamEntry {
  name: string;
  step: number;
  projector: unknown;
}

export abstract class ParamWiseOptimizer implements ParamOptimizer {
  abstract readonly name: string;
  private readonly member: Set<Param>;

  constructor(
    readonly params: readonly Param[],
    public lr: number,
  ) {
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new ConfigError(`optimizer.lr must be a finite number ≥ 0, got ${lr}`);
    this.member = new Set(params);
  }

  abstract stepParam(param: Param, grad: Tensor): void;
  abstract stateBytes(): number;
  abstract saveState(): OptimizerState;
  abstract loadState(state: OptimizerState): void;
  abstract dispose(): void;

  /** The parameter called `name` among this optimizer's, for loadState. */
  /**
   * Checkpoint layout shared by the projected optimizers: JSON {optimizer, params: [{name, step,
   * projector}]} and tensors named "<param>/<key>" — the moments `tensorsOf` returns plus the projector's.
   */
  protected saveParamStates<S extends CheckpointedState>(
    states: ReadonlyMap<Param, S>, tensorsOf: (state: S) => Record<string, Float32Array>,
  ): OptimizerState {
    const params: SavedParamEntry[] = [];
    const tensors: Record<string, Float32Array> = {};
    for (const [param, state] of states) {
      const projector = state.projector?.save() ?? null;
      for (const [key, values] of Object.entries({ ...tensorsOf(state), ...projector?.tensors })) tensors[`${param.name}/${key}`] = values;
      params.push({ name: param.name, step: state.step, projector: projector?.json ?? null });
    }
    return { json: { optimizer: this.name, params }, tensors };
  }

  /** The inverse of saveParamStates: `restore` gets each parameter's own tensors (keys without the prefix). */
  protected loadParamStates<S extends CheckpointedState>(
    saved: OptimizerState, stateFor: (param: Param) => S, restore: (state: S, own: Record<string, Float32Array>, param: Param) => void,
  ): void {
    const json = saved.json as { optimizer: string; params: SavedParamEntry[] };
    if (json.optimizer !== this.name) throw new ConfigError(`${this.name}: saved state is from optimizer ${json.optimizer}`);
    for (const entry of json.params) {
      const param = this.paramNamed(entry.name);
      const state = stateFor(param);
      const prefix = `${param.name}/`;
      const own = Object.fromEntries(
        Object.entries(saved.tensors).filter(([key]) => key.startsWith(prefix)).map(([key, values]) => [key.slice(prefix.length), values]),
      );
      state.step = entry.step;
      restore(state, own, param);
      if (state.projector && entry.projector) state.projector.load(entry.projector as never, own);
    }
  }

  protected paramNamed(name: string): Param {
    const param = this.params.find((p) => p.name === name);
    if (!param) throw new ConfigError(`${this.name}: saved state names parameter "${name}", which this optimizer does not update`);
    return param;
  }

  step(grads: GradientSource): void {
    for (const param of this.params) {
      const grad = gradientFor(grads, param);
      if (grad) this.stepParam(param, grad);
    }
  }

  protected assertMember(param: Param): void {
    if (!this.member.has(param)) throw new ConfigError(`${this.name}: parameter "${param.name}" is not one this optimizer updates`);
  }
}

export function assertProbability(field: string, value: number, allowOne = false): number {
  if (!(value >= 0 && (allowOne ? value <= 1 : value < 1))) {
    throw new ConfigError(`${field} must be in [0, ${allowOne ? '1]' : '1)'}, got ${value}`);
  }
  return value;
}

export function assertNonNegative(field: string, value: number): number {
  if (!(value >= 0) || !Number.isFinite(value)) throw new ConfigError(`${field} must be a finite number ≥ 0, got ${value}`);
  return value;
}
