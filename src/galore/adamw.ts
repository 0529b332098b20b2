/**
 * AdamW (Loshchilov & Hutter, arXiv 1711.05101, Alg. 2) over ParamStore parameters: the backprop
 * baseline, and the interface GaLoreAdamW and the other optimizers share.
 *
 * Per parameter, with its own step count t (1-based, as torch keeps `state['step']` per tensor):
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
 *   θ ← θ − lr·c_t·m/(√v + ε),  c_t = √(1−β2ᵗ)/(1−β1ᵗ)      (HF / GaLore convention, galore.md §2.4)
 *   θ ← θ − lr·λ·θ   when θ has ≥ 2 axes                      (decoupled decay, after the step)
 * This is the backend's fused `adamStep` (src/kernels/backend.ts). torch.optim.AdamW puts ε outside
 * the bias correction (equivalent to ε·√(1−β2ᵗ) here) and decays before the step (O(lr²) apart).
 * Biases and LayerNorm γ/β (1-axis tensors) are not decayed, as in nanoGPT's configure_optimizers.
 * Bad input: non-finite or out-of-range hyper-parameters throw ConfigError at construction; a
 * gradient whose size differs from its parameter throws ShapeError.
 */
import type { AdamSpec } from '../kernels/backend.ts';
import { ConfigError, ShapeError, assertFinite } from '../kernels/errors.ts';
import type { Param } from '../tensor/params.ts';
import { formatShape, type Tensor } from '../tensor/tensor.ts';

/** The interface every optimizer over a ParamStore offers (AdamW, GaLoreAdamW, 8-bit variants). */
export interface Optimizer {
  readonly name: string;
  /** One update of every parameter in `grads` (gradients are read, not freed). */
  step(grads: ReadonlyMap<Param, Tensor>): void;
  /** The same update for one parameter: per-layer updates from Tape.backward's onParamGrad. */
  stepParam(param: Param, grad: Tensor): void;
  /** Bytes of optimizer state allocated so far (also charged to the ledger as 'optimizerState'). */
  stateBytes(): number;
  /** Frees every state buffer. */
  dispose(): void;
}

export interface AdamWOptions {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** decoupled weight decay λ, applied to tensors with ≥ 2 axes only. */
  weightDecay: number;
}

/**
 * lr 1e-3, betas (0.9, 0.999), eps 1e-8: Kingma & Ba (arXiv 1412.6980 §2) and torch.optim.AdamW;
 * weight decay 0.01: torch.optim.AdamW's default. (GaLore's repo uses eps 1e-6 and λ = 0; pass them.)
 */
export const ADAMW_DEFAULTS: Readonly<AdamWOptions> = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

interface AdamState {
  m: Tensor;
  v: Tensor;
  step: number;
}

export class AdamW implements Optimizer {
  readonly name: string = 'adamw';
  readonly options: Readonly<AdamWOptions>;
  /** current learning rate; schedules overwrite it between steps. */
  lr: number;
  private readonly states = new Map<Param, AdamState>();

  constructor(options: Partial<AdamWOptions> = {}) {
    const merged = { ...ADAMW_DEFAULTS, ...options };
    for (const key of Object.keys(merged) as (keyof AdamWOptions)[]) assertFinite(`adamw.${key}`, merged[key]);
    if (merged.lr < 0) throw new ConfigError(`adamw.lr must be non-negative, got ${merged.lr}`);
    for (const key of ['beta1', 'beta2'] as const) {
      if (!(merged[key] >= 0 && merged[key] < 1)) throw new ConfigError(`adamw.${key} must be in [0, 1), got ${merged[key]}`);
    }
    if (!(merged.eps > 0)) throw new ConfigError(`adamw.eps must be positive, got ${merged.eps}`);
    if (merged.weightDecay < 0) throw new ConfigError(`adamw.weightDecay must be non-negative, got ${merged.weightDecay}`);
    this.options = merged;
    this.lr = merged.lr;
  }

  step(grads: ReadonlyMap<Param, Tensor>): void {
    for (const [param, grad] of grads) this.stepParam(param, grad);
  }

  stepParam(param: Param, grad: Tensor): void {
    const tensor = param.tensor;
    if (grad.size !== tensor.size) {
      throw new ShapeError(`adamw: gradient ${formatShape(grad.shape)} does not fit parameter "${param.name}" ${formatShape(tensor.shape)}`);
    }
    let state = this.states.get(param);
    if (!state) {
      state = { m: tensor.engine.zeros(tensor.shape, 'optimizerState'), v: tensor.engine.zeros(tensor.shape, 'optimizerState'), step: 0 };
      this.states.set(param, state);
    }
    state.step++;
    const spec: AdamSpec = {
      lr: this.lr,
      beta1: this.options.beta1,
      beta2: this.options.beta2,
      eps: this.options.eps,
      weightDecay: tensor.rank >= 2 ? this.options.weightDecay : 0,
      step: state.step,
    };
    tensor.backend.adamStep(tensor.buffer, grad.buffer, state.m.buffer, state.v.buffer, spec);
  }

  /** Updates taken by `param` so far (0 before its first). */
  stepsOf(param: Param): number {
    return this.states.get(param)?.step ?? 0;
  }

  stateBytes(): number {
    let bytes = 0;
    for (const state of this.states.values()) bytes += (state.m.size + state.v.size) * 4;
    return bytes;
  }

  dispose(): void {
    for (const state of this.states.values()) {
      state.m.dispose();
      state.v.dispose();
    }
    this.states.clear();
  }
}
