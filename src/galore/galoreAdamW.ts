/**
 * GaLore-AdamW (Zhao et al. 2024, Alg. 2; galore.md §2.4–2.9), with optional 8-bit moments
 * (GaLoreAdamW8bit, §3.1). For a target matrix W with gradient G, per update (t = pre-increment
 * step counter of that parameter, never reset):
 *   R = proj(G)                       (projector.ts; basis refreshed when t ≡ 0 mod T)
 *   t ← t + 1;  m ← β1 m + (1−β1) R;  v ← β2 v + (1−β2) R²
 *   N = c_t · m / (√v + ε),  c_t = √(1−β2^t)/(1−β1^t)      (HF-style bias correction, §2.4)
 *   W ← W − lr·α·back(N);  then W ← W − lr·wd·W            (decoupled decay after, no α; §2.7)
 * Every other trainable parameter (norms, biases, embeddings, head, non-targets) runs the same
 * AdamW step on its full gradient at the full lr with no α (§6.19). At a basis refresh the moments
 * are kept as they are (§2.5); `momentsAtRefresh: 'reset'` zeroes them instead, as an ablation.
 * Bad input: rank/T/type errors from resolveProjectorOptions; targets from selectTargets.
 */
import type { AdamSpec } from '../kernels/backend.ts';
import { ConfigError, assertOneOf } from '../kernels/errors.ts';
import type { Param } from '../tensor/params.ts';
import type { Engine, Tensor } from '../tensor/tensor.ts';
import { ADAMW_DEFAULTS, EIGHT_BIT_DEFAULTS, GALORE_DEFAULTS } from './defaults.ts';
import { type AdamMoments, createMoments, DEFAULT_EIGHT_BIT, type EightBitOptions } from './moments.ts';
import { assertNonNegative, assertProbability, type OptimizerState, ParamWiseOptimizer } from './optimizer.ts';
import { GradientProjector, type ProjectorOptions, resolveProjectorOptions } from './projector.ts';
import { selectTargets, type TargetModules } from './targets.ts';

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface GaLoreSettings extends Partial<ProjectorOptions> {
  /** α: multiplies the back-projected update of target matrices only. */
  scale?: number;
  targetModules?: TargetModules;
  /** 'keep' (the reference), or 'reset' to zero the moments at each refresh (ablation). */
  momentsAtRefresh?: 'keep' | 'reset';
}

export interface GaLoreAdamWOptions extends Partial<AdamHyper> {
  /** null/absent: no projection at all (plain AdamW, e.g. `adamw8bit`). */
  galore?: GaLoreSettings | null;
  /** true or options: bitsandbytes-style 8-bit moments. */
  eightBit?: boolean | Partial<EightBitOptions>;
  /**
   * Decay only tensors with ≥ 2 axes (nanoGPT's convention, B's AdamW). Default false: the
   * reference decays every parameter of the group (galore.md §2.7).
   */
  decayMatricesOnly?: boolean;
  name?: string;
}

interface ParamState {
  step: number;
  moments: AdamMoments;
  projector: GradientProjector | null;
}

export function resolveAdamHyper(options: Partial<AdamHyper>, defaults: AdamHyper = ADAMW_DEFAULTS): AdamHyper {
  const hyper = { ...defaults, ...stripUndefined(options) };
  assertProbability('optimizer.beta1', hyper.beta1);
  assertProbability('optimizer.beta2', hyper.beta2);
  if (!(hyper.eps > 0)) throw new ConfigError(`optimizer.eps must be > 0, got ${hyper.eps}`);
  assertNonNegative('optimizer.weightDecay', hyper.weightDecay);
  return hyper;
}

export function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export class GaLoreAdamW extends ParamWiseOptimizer {
  readonly name: string;
  readonly hyper: AdamHyper;
  readonly scale: number;
  readonly projectorOptions: ProjectorOptions | null;
  readonly targets: ReadonlySet<Param>;
  readonly eightBit: EightBitOptions | null;
  readonly momentsAtRefresh: 'keep' | 'reset';
  readonly decayMatricesOnly: boolean;
  private readonly state = new Map<Param, ParamState>();

  constructor(
    private readonly engine: Engine,
    params: readonly Param[],
    options: GaLoreAdamWOptions = {},
  ) {
    // bitsandbytes' 8-bit Adam defaults to eps 1e-8 (galore.md §3.1), GaLoreAdamW to 1e-6 (§2.4)
    const hyper = resolveAdamHyper(options, options.eightBit ? { ...ADAMW_DEFAULTS, eps: EIGHT_BIT_DEFAULTS.eps } : ADAMW_DEFAULTS);
    super(params.filter((p) => p.trainable), hyper.lr);
    this.hyper = hyper;
    this.eightBit = options.eightBit ? { ...DEFAULT_EIGHT_BIT, ...(options.eightBit === true ? {} : options.eightBit) } : null;
    const galore = options.galore ?? null;
    this.scale = galore?.scale ?? GALORE_DEFAULTS.scale;
    if (!Number.isFinite(this.scale)) throw new ConfigError(`galore.scale must be a finite number, got ${this.scale}`);
    this.momentsAtRefresh = assertOneOf('galore.momentsAtRefresh', galore?.momentsAtRefresh ?? 'keep', ['keep', 'reset'] as const);
    this.projectorOptions = galore ? resolveProjectorOptions(stripUndefined(galore)) : null;
    const targets = galore ? selectTargets(this.params, galore.targetModules ?? GALORE_DEFAULTS.targetModules) : [];
    const fixedRank = this.projectorOptions?.rank ?? null;
    if (fixedRank !== null && targets.length > 0) {
      const largest = Math.max(...targets.map((p) => Math.min(p.tensor.shape[0]!, p.tensor.shape[1]!)));
      if (fixedRank > largest) {
        throw new ConfigError(
          `galore.rank ${fixedRank} exceeds min(m, n) = ${largest} of every target matrix; allowed: 1..${largest} ` +
            '(ranks above a single matrix\'s min(m, n) are capped per matrix, as in the reference)',
        );
      }
    }
    this.targets = new Set(targets);
    this.decayMatricesOnly = options.decayMatricesOnly ?? false;
    this.name = options.name ?? `${galore ? 'galore-' : ''}adamw${this.eightBit ? '8bit' : ''}`;
  }

  /** The projector of a target parameter (after its first update), for inspection and tests. */
  projectorOf(param: Param): GradientProjector | null {
    return this.state.get(param)?.projector ?? null;
  }

  momentsOf(param: Param): AdamMoments | null {
    return this.state.get(param)?.moments ?? null;
  }

  stepOf(param: Param): number {
    return this.state.get(param)?.step ?? 0;
  }

  stepParam(param: Param, grad: Tensor): void {
    this.assertMember(param);
    const state = this.stateFor(param);
    const weight = param.tensor;
    const decay = this.decayMatricesOnly && weight.rank < 2 ? 0 : this.hyper.weightDecay;
    if (!state.projector) {
      state.step += 1;
      state.moments.stepInPlace(weight, grad, { ...this.spec(state.step), weightDecay: decay });
      return;
    }
    const { projected, refreshed } = state.projector.projectForStep(grad, state.step);
    try {
      if (refreshed && state.step > 0 && this.momentsAtRefresh === 'reset') state.moments.reset();
      state.step += 1;
      const direction = this.engine.zeros(projected.shape, 'workspace');
      state.moments.direction(projected, direction, this.spec(state.step));
      state.projector.accumulateBack(direction, weight, -this.lr * this.scale);
      direction.dispose();
    } finally {
      projected.dispose();
    }
    if (decay !== 0) this.engine.backend.affine(weight.buffer, weight.buffer, 1 - this.lr * decay, 0);
  }

  stateBytes(): number {
    let bytes = 0;
    for (const state of this.state.values()) bytes += state.moments.bytes + 4 * (state.projector?.basisElements ?? 0);
    return bytes;
  }

  saveState(): OptimizerState {
    return this.saveParamStates(this.state, (state) => state.moments.save());
  }

  loadState(saved: OptimizerState): void {
    this.loadParamStates(saved, (param) => this.stateFor(param), (state, own) => state.moments.load(own));
  }

  /** Forgets all state (moments, projectors, step counters), as a fresh optimizer; ReLoRA's restart. */
  resetState(): void {
    this.dispose();
  }

  dispose(): void {
    for (const state of this.state.values()) {
      state.moments.dispose();
      state.projector?.dispose();
    }
    this.state.clear();
  }

  private spec(step: number): AdamSpec {
    const { beta1, beta2, eps, weightDecay } = this.hyper;
    return { lr: this.lr, beta1, beta2, eps, weightDecay, step };
  }

  /** Moments are allocated lazily at the first update, in the projected shape for targets (§2.4). */
  private stateFor(param: Param): ParamState {
    let state = this.state.get(param);
    if (!state) {
      const projector = this.targets.has(param)
        ? new GradientProjector(this.engine, param.name, param.tensor.shape, this.projectorOptions!, param.index)
        : null;
      const shape = projector ? projector.projectedShape : param.tensor.shape;
      state = { step: 0, projector, moments: createMoments(this.engine, shape, this.eightBit) };
      this.state.set(param, state);
    }
    return state;
  }
}
