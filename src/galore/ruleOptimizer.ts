/**
 * An optimizer over a list of parameters from one update rule (rule.ts): per parameter it keeps the
 * update count and the rule's state (allocated at the parameter's first update), runs the rule —
 * its fused path where it has one — and the shared apply stage with decoupled weight decay λ.
 * Which tensors decay: every trained one (the GaLore/HF reference, galore.md §2.7), or with
 * `decayMatricesOnly` only those with ≥ 2 axes (nanoGPT's configure_optimizers: no decay on biases
 * and norm gains). Checkpoints: JSON {optimizer, params: [{name, step, …rule fields}]} and tensors
 * "<param>/<key>".
 * Bad input: lr or λ negative or not finite → ConfigError; a gradient whose size differs from its
 * parameter → ShapeError; a parameter the optimizer does not update → ConfigError.
 */
import { assertNonNegative, ConfigError, ShapeError } from '../errors.ts';
import type { Param } from '../tensor/params.ts';
import { type Engine, formatShape, type Tensor } from '../tensor/tensor.ts';
import { type GradientSource, gradientFor, type OptimizerState, type ParamOptimizer } from './optimizer.ts';
import { applyUpdate, type UpdateRule } from './rule.ts';

export interface RuleOptimizerOptions {
  /** the name checkpoints and cards record (the registered method, e.g. 'galore-adamw8bit'). */
  name: string;
  lr: number;
  /** λ of the decoupled weight decay. */
  weightDecay: number;
  decayMatricesOnly?: boolean;
}

interface ParamEntry<State> {
  /** updates taken so far. */
  step: number;
  readonly rule: State;
}

interface SavedParamEntry {
  name: string;
  step: number;
  [field: string]: unknown;
}

export class RuleOptimizer<State = unknown> implements ParamOptimizer {
  readonly name: string;
  lr: number;
  readonly weightDecay: number;
  readonly decayMatricesOnly: boolean;
  readonly params: readonly Param[];
  private readonly member: ReadonlySet<Param>;
  private readonly states = new Map<Param, ParamEntry<State>>();

  constructor(
    private readonly engine: Engine,
    params: readonly Param[],
    readonly rule: UpdateRule<State>,
    options: RuleOptimizerOptions,
  ) {
    this.name = options.name;
    this.lr = assertNonNegative('optimizer.lr', options.lr);
    this.weightDecay = assertNonNegative('optimizer.weightDecay', options.weightDecay);
    this.decayMatricesOnly = options.decayMatricesOnly ?? false;
    this.params = params.filter((p) => p.trainable);
    this.member = new Set(this.params);
    rule.prepare?.(this.params);
  }

  /** A parameter's update count and rule state (null before its first update), for inspection and tests. */
  stateOf(param: Param): { readonly step: number; readonly rule: State } | null {
    return this.states.get(param) ?? null;
  }

  async stepParam(param: Param, grad: Tensor): Promise<void> {
    if (!this.member.has(param)) throw new ConfigError(`${this.name}: parameter "${param.name}" is not one this optimizer updates`);
    const weight = param.tensor;
    if (grad.size !== weight.size) {
      throw new ShapeError(`${this.name}: gradient ${formatShape(grad.shape)} does not fit parameter "${param.name}" ${formatShape(weight.shape)}`);
    }
    const entry = this.entryFor(param);
    const ctx = { engine: this.engine, lr: this.lr, step: entry.step + 1, param };
    const weightDecay = this.decayMatricesOnly && weight.rank < 2 ? 0 : this.weightDecay;
    if (!(await this.rule.updateInPlace?.(grad, entry.rule, ctx, weightDecay))) {
      const update = await this.rule.update(grad, entry.rule, ctx);
      try {
        applyUpdate(weight, update, weightDecay, this.rule.decayBeforeUpdate);
      } finally {
        update.release();
      }
    }
    entry.step = ctx.step;
  }

  async step(grads: GradientSource): Promise<void> {
    for (const param of this.params) {
      const grad = gradientFor(grads, param);
      if (grad) await this.stepParam(param, grad);
    }
  }

  stateBytes(): number {
    let bytes = 0;
    for (const entry of this.states.values()) bytes += this.rule.stateBytes(entry.rule);
    return bytes;
  }

  async saveState(): Promise<OptimizerState> {
    const params: SavedParamEntry[] = [];
    const tensors: Record<string, Float32Array> = {};
    for (const [param, entry] of this.states) {
      const saved = await this.rule.save(entry.rule);
      for (const [key, values] of Object.entries(saved.tensors)) tensors[`${param.name}/${key}`] = values;
      params.push({ name: param.name, step: entry.step, ...saved.json });
    }
    return { json: { optimizer: this.name, params }, tensors };
  }

  loadState(saved: OptimizerState): void {
    const json = saved.json as { optimizer: string; params: SavedParamEntry[] };
    if (json.optimizer !== this.name) throw new ConfigError(`${this.name}: saved state is from optimizer ${json.optimizer}`);
    for (const { name, step, ...fields } of json.params) {
      const param = this.params.find((p) => p.name === name);
      if (!param) throw new ConfigError(`${this.name}: saved state names parameter "${name}", which this optimizer does not update`);
      const entry = this.entryFor(param);
      const prefix = `${name}/`;
      const own = Object.fromEntries(
        Object.entries(saved.tensors).filter(([key]) => key.startsWith(prefix)).map(([key, values]) => [key.slice(prefix.length), values]),
      );
      entry.step = step;
      this.rule.load(entry.rule, { tensors: own, json: fields });
    }
  }

  /** Forgets all state (statistics, projectors, update counts), as a fresh optimizer: ReLoRA's restart. */
  resetState(): void {
    this.dispose();
  }

  dispose(): void {
    for (const entry of this.states.values()) this.rule.dispose(entry.rule);
    this.states.clear();
  }

  private entryFor(param: Param): ParamEntry<State> {
    let entry = this.states.get(param);
    if (!entry) {
      entry = { step: 0, rule: this.rule.init(this.engine, param.tensor.shape, param) };
      this.states.set(param, entry);
    }
    return entry;
  }
}
