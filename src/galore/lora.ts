/**
 * The low-rank baselines GaLore is compared with (paper Table 2, Table 4; galore.md §4.1):
 * - LoRA (Hu et al. 2021) trained by backprop: adapters from src/nn/adapters (F's LoRA, y + (α/r)·x·Aᵀ·Bᵀ)
 *   on every attention and MLP Linear, base weights frozen, AdamW on the adapter parameters only.
 * - ReLoRA (Lialin et al. 2023): the same, but every K steps the adapters are merged into the
 *   frozen weights (W ← W + (α/r)·B·A), re-initialised (A ~ U(±1/√in) from a seed that depends on
 *   the restart, B = 0, so the model is unchanged by the restart) and the optimizer restarts.
 *   Our restart choices (documented in docs/galore.md): the AdamW state is reset completely —
 *   moments *and* step counters, i.e. a fresh Adam with bias correction (ReLoRA prunes 99% of
 *   the moments by magnitude and keeps the counter) — and the lr re-warms linearly over
 *   `rewarmupSteps` after each restart (ReLoRA's "jagged" schedule). No full-rank warm start,
 *   matching the paper's "ReLoRA (no full-rank warmup)" row in Table 2.
 * The merge is computed by running the adapter's own forward on the identity (ΔWᵀ = adapter(I, 0),
 * src/nn/adapters/merge.ts), so it holds for any layout of the adapter (q and v slices of a fused
 * projection stacked).
 */
import seedrandom from 'seedrandom';
import { ConfigError, assertPositiveInteger } from '../errors.ts';
import { type AdaptableModel, attachAdapters, type AttachedAdapters, ATTENTION_MLP_TARGET } from '../nn/adapters/attach.ts';
import { LORA_DEFAULTS, type LoraAdapter, type LoraOptions } from '../nn/adapters/lora.ts';
import { additiveDeltaTransposed, addTransposedInPlace } from '../nn/adapters/merge.ts';
import type { OutputAdapter } from '../nn/linear.ts';
import type { Param } from '../tensor/params.ts';
import type { Engine, Tensor } from '../tensor/tensor.ts';
import { RELORA_DEFAULTS } from './defaults.ts';
import { type GradientSource, gradientFor, type OptimizerState, type ParamOptimizer } from './optimizer.ts';
import type { UpdateRule } from './rule.ts';
import { RuleOptimizer, type RuleOptimizerOptions } from './ruleOptimizer.ts';

/** LoRA on every attention and MLP Linear (by weight group, in any architecture), as GaLore's comparisons apply both to the same modules. */
export const LORA_BASELINE_TARGETS = [ATTENTION_MLP_TARGET] as const;

export interface ReLoraSettings {
  /** K: merge and restart every K optimizer steps. */
  resetEvery: number;
  /** linear lr re-warmup length after each restart (0: none). */
  rewarmupSteps: number;
}

export interface LoraOptimizerOptions {
  /** the rule that trains the adapters (AdamW for lora and relora) and its optimizer settings. */
  rule: UpdateRule;
  hyper: RuleOptimizerOptions;
  lora?: Partial<LoraOptions>;
  /** ReLoRA when present. */
  relora?: Partial<ReLoraSettings> | null;
  seed?: number;
}

export class LoraOptimizer implements ParamOptimizer {
  readonly name: string;
  readonly attached: AttachedAdapters;
  readonly relora: ReLoraSettings | null;
  /** completed optimizer steps and restarts so far. */
  steps = 0;
  restarts = 0;
  private readonly inner: RuleOptimizer;
  private readonly branches: { adapter: LoraAdapter; branch: OutputAdapter; weight: Param }[] = [];
  private updatesThisStep = 0;
  private baseLr: number;
  private readonly seed: number;

  constructor(
    private readonly engine: Engine,
    readonly model: AdaptableModel,
    options: LoraOptimizerOptions,
  ) {
    const seed = options.seed ?? 0;
    const spec = { kind: 'lora' as const, ...LORA_DEFAULTS, targets: [...LORA_BASELINE_TARGETS], ...options.lora };
    this.attached = attachAdapters(model, spec, seed);
    const linears = model.linears();
    for (const adapter of this.attached.adapters as LoraAdapter[]) {
      const linear = linears.get(adapter.site)!;
      this.branches.push({ adapter, branch: linear.outputAdapters[linear.outputAdapters.length - 1]!, weight: linear.weight });
    }
    if (options.relora) {
      const settings = { ...RELORA_DEFAULTS, ...options.relora };
      assertPositiveInteger('relora.resetEvery (K)', settings.resetEvery);
      if (!Number.isInteger(settings.rewarmupSteps) || settings.rewarmupSteps < 0) {
        throw new ConfigError(`relora.rewarmupSteps must be a non-negative integer, got ${settings.rewarmupSteps}`);
      }
      this.relora = settings;
    } else {
      this.relora = null;
    }
    this.name = options.hyper.name;
    this.inner = new RuleOptimizer(engine, this.attached.params, options.rule, options.hyper);
    this.baseLr = this.inner.lr;
    this.seed = seed;
  }

  get params(): readonly Param[] {
    return this.inner.params;
  }

  get lr(): number {
    return this.baseLr;
  }

  set lr(value: number) {
    this.baseLr = value;
  }

  async stepParam(param: Param, grad: Tensor): Promise<void> {
    this.inner.lr = this.baseLr * this.warmupFactor();
    await this.inner.stepParam(param, grad);
    this.updatesThisStep++;
    // a step is complete when every adapter parameter was updated once (per-layer mode calls us in backward order)
    if (this.updatesThisStep === this.inner.params.length) await this.finishStep();
  }

  async step(grads: GradientSource): Promise<void> {
    for (const param of this.inner.params) {
      const grad = gradientFor(grads, param);
      if (grad) await this.stepParam(param, grad);
    }
  }

  stateBytes(): number {
    return this.inner.stateBytes();
  }

  /** AdamW state of the adapters plus ReLoRA's counters (adapters and merged weights are parameters, checkpointed with them). */
  async saveState(): Promise<OptimizerState> {
    const inner = await this.inner.saveState();
    return { json: { inner: inner.json, steps: this.steps, restarts: this.restarts, updatesThisStep: this.updatesThisStep }, tensors: inner.tensors };
  }

  loadState(saved: OptimizerState): void {
    const json = saved.json as { inner: unknown; steps: number; restarts: number; updatesThisStep: number };
    this.inner.loadState({ json: json.inner, tensors: saved.tensors });
    this.steps = json.steps;
    this.restarts = json.restarts;
    this.updatesThisStep = json.updatesThisStep;
  }

  dispose(): void {
    this.inner.dispose();
  }

  /** Merges every adapter into its frozen weight: W ← W + ΔW, ΔWᵀ = branch(I, 0). */
  async mergeAdapters(): Promise<void> {
    for (const { adapter, branch, weight } of this.branches) {
      const [outFeatures, inFeatures] = weight.tensor.shape as [number, number];
      const deltaT = await additiveDeltaTransposed(this.engine, branch, inFeatures, outFeatures);
      const w = await weight.tensor.read();
      addTransposedInPlace(w, deltaT, outFeatures, inFeatures);
      this.engine.backend.write(weight.tensor.buffer, w);
      this.reinitialize(adapter, inFeatures);
    }
  }

  private async finishStep(): Promise<void> {
    this.updatesThisStep = 0;
    this.steps++;
    if (this.relora && this.steps % this.relora.resetEvery === 0) {
      await this.mergeAdapters();
      this.inner.resetState();
      this.restarts++;
    }
  }

  private warmupFactor(): number {
    if (!this.relora || this.restarts === 0 || this.relora.rewarmupSteps === 0) return 1;
    const sinceRestart = this.steps - this.restarts * this.relora.resetEvery;
    return Math.min(1, (sinceRestart + 1) / this.relora.rewarmupSteps);
  }

  private reinitialize(adapter: LoraAdapter, inFeatures: number): void {
    const uniform = seedrandom(`zolo-relora:${this.seed}:${adapter.site}:${this.restarts + 1}`);
    const bound = 1 / Math.sqrt(inFeatures);
    const a = Float32Array.from({ length: adapter.a.tensor.size }, () => (2 * uniform() - 1) * bound);
    this.engine.backend.write(adapter.a.tensor.buffer, a);
    this.engine.backend.fill(adapter.bT.tensor.buffer, 0);
  }
}
