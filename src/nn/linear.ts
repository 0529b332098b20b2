/**
 * Linear layer y = x Wᵀ + b with W stored [out, in] (PyTorch layout), plus adapter hooks.
 *
 * Adapters (LoRA, AdaZeta's tensor-train adapters; src/nn/adapters) attach to a Linear by pushing
 * onto its lists; they must build their outputs from the ops in functional.ts so they work with
 * and without a tape:
 *   inputAdapters  x ← a(x), in order, before the base product (AdaZeta's input adapters on Llama);
 *   outputAdapters y ← a(x, y), in order, after the base product, x being the (adapted) input
 *                  (LoRA: y + s·B(A(x)); Houlsby/AdaZeta output adapter: A(y)).
 * A fused projection (zolo's attn.qkv, GPT-2's c_attn) declares the equal-width slices of its
 * output (`parts`), so adapter targets can name one slice ('attn.c_attn.q').
 */
import type { Param, ParamGroup, ParamStore } from '../tensor/params.ts';
import type { Tensor } from '../tensor/tensor.ts';
import * as F from './functional.ts';
import type { InitStreams } from './init.ts';
import { releaseUnlessTaped } from './tape.ts';

export type InputAdapter = (input: Tensor) => Tensor;
/**
 * `additive`: the adapter is y + f(x) with f linear in x (LoRA), so it folds into the weight,
 * W ← W + f(I)ᵀ (adapters/merge.ts); adapters without it (AdaZeta's, nonlinear) cannot be merged.
 */
export type OutputAdapter = ((input: Tensor, output: Tensor) => Tensor) & { readonly additive?: true };

/** The output of a fused projection as equal-width named slices, e.g. q | k | v. */
export interface FusedParts {
  /** slice names in output order */
  readonly names: readonly string[];
  /**
   * the slices a LoRA target naming the whole Linear adapts (zolo's attn.qkv: q and v, MeZO's
   * setting); null adapts the whole output with one adapter, as PEFT does for GPT-2's c_attn.
   */
  readonly wholeTarget: readonly string[] | null;
}

export class Linear {
  readonly inputAdapters: InputAdapter[] = [];
  readonly outputAdapters: OutputAdapter[] = [];

  constructor(
    /** module path, e.g. 'blocks.0.attn.qkv'; its parameters are `${name}.weight` and `${name}.bias`. */
    readonly name: string,
    readonly weight: Param,
    readonly bias: Param | null,
    /** the named output slices of a fused projection; null for a plain one */
    readonly parts: FusedParts | null = null,
  ) {}

  /** Registers `${name}.weight` [out, in] ~ N(0, std²) and `${name}.bias` [out] = 0. */
  static create(
    store: ParamStore, name: string, group: ParamGroup, inFeatures: number, outFeatures: number,
    init: InitStreams, std: number, withBias = true, parts: FusedParts | null = null,
  ): Linear {
    const weight = store.add(`${name}.weight`, group, [outFeatures, inFeatures], init.normal(std)(outFeatures * inFeatures));
    const bias = withBias ? store.add(`${name}.bias`, group, [outFeatures], init.constant(0)(outFeatures)) : null;
    return new Linear(name, weight, bias, parts);
  }

  get inFeatures(): number {
    return this.weight.tensor.shape[1]!;
  }
  get outFeatures(): number {
    return this.weight.tensor.shape[0]!;
  }

  /** x [..., in] → [..., out]. */
  forward(x: Tensor): Tensor {
    let input = x;
    for (const adapter of this.inputAdapters) input = adapter(input);
    let y = F.linear(input, this.weight.tensor, this.bias?.tensor);
    for (const adapter of this.outputAdapters) y = adapter(input, y);
    return y;
  }

  /**
   * GELU(forward(x)). With no output adapter between the product and the activation, the bias and
   * GELU run in the product's epilogue (F.linearGelu); otherwise forward, then GELU.
   */
  forwardGelu(x: Tensor): Tensor {
    if (this.outputAdapters.length > 0) {
      const y = this.forward(x);
      const activated = F.gelu(y);
      releaseUnlessTaped(y);
      return activated;
    }
    let input = x;
    for (const adapter of this.inputAdapters) input = adapter(input);
    return F.linearGelu(input, this.weight.tensor, this.bias?.tensor);
  }
}
