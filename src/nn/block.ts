/**
 * Pre-LN transformer block (GPT-2 placement): x ← x + attn(ln1(x)); x ← x + mlp(ln2(x)),
 * mlp(x) = fc2(GELU_tanh(fc1(x))).
 */
import type { ParamStore } from '../tensor/params.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { SelfAttention } from './attention.ts';
import type { TransformerConfig } from './config.ts';
import * as F from './functional.ts';
import type { InitStreams } from './init.ts';
import { LayerNorm } from './layerNorm.ts';
import { Linear } from './linear.ts';
import { releaseUnlessTaped } from './tape.ts';

export class Mlp {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(store: ParamStore, readonly name: string, config: TransformerConfig, init: InitStreams) {
    this.fc1 = Linear.create(store, `${name}.fc1`, 'mlp', config.dModel, config.dFf, init, config.initStd);
    this.fc2 = Linear.create(store, `${name}.fc2`, 'mlp', config.dFf, config.dModel, init, config.initStd);
  }

  forward(x: Tensor): Tensor {
    const activated = this.fc1.forwardGelu(x);
    const out = this.fc2.forward(activated);
    releaseUnlessTaped(activated);
    return out;
  }
}

export class Block {
  readonly ln1: LayerNorm;
  readonly attn: SelfAttention;
  readonly ln2: LayerNorm;
  readonly mlp: Mlp;

  /** Registers, in this order: ln1, attn.qkv, attn.proj, ln2, mlp.fc1, mlp.fc2 (torch_peer's order). */
  constructor(store: ParamStore, readonly name: string, config: TransformerConfig, init: InitStreams, causal: boolean) {
    this.ln1 = new LayerNorm(store, `${name}.ln1`, config.dModel, init, config.layerNormEps);
    this.attn = new SelfAttention(store, `${name}.attn`, config, init, causal);
    this.ln2 = new LayerNorm(store, `${name}.ln2`, config.dModel, init, config.layerNormEps);
    this.mlp = new Mlp(store, `${name}.mlp`, config, init);
  }

  /**
   * x [B, T, d] → [B, T, d]. The attention and MLP halves run in their own engine scopes, so without
   * a tape the inference peak is the larger half's intermediates, not their sum.
   */
  forward(x: Tensor, keyBias?: Tensor): Tensor {
    const engine = x.engine;
    const attended = engine.scope(() => this.attn.forward(this.ln1.forward(x), keyBias));
    const afterAttention = F.add(x, attended);
    const transformed = engine.scope(() => this.mlp.forward(this.ln2.forward(afterAttention)));
    return F.add(afterAttention, transformed);
  }
}
