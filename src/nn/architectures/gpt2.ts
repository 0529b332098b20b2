/**
 * GPT-2 (Radford et al. 2019; transformers' GPT2LMHeadModel), pre-LN:
 *   x = wte[ids] + wpe[0..T−1]
 *   per block:  x += c_proj(attention(split(c_attn(ln_1(x)))))
 *               x += mlp.c_proj(GELU_tanh(c_fc(ln_2(x))))
 *   logits = ln_f(x)·wteᵀ                                   (tied head)
 * c_attn is the fused q|k|v projection. Hugging Face stores GPT-2's Conv1D weights [in, out];
 * zolo keeps every Linear as [out, in], so those four weights are transposed on load.
 */

import type { Engine, Tensor } from '../../tensor/tensor.ts';
import type { TokenBatch } from '../batch.ts';
import * as F from '../functional.ts';
import type { FusedParts } from '../linear.ts';
import { activeTape } from '../tape.ts';
import { causalAttention, splitHeads } from './attention.ts';
import type { DecoderConfig } from './config.ts';
import { type Architecture, DecoderLm, type ParamSpec, positionIds } from './decoderLm.ts';

const PROJECTIONS = ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj'] as const;
/**
 * c_attn's output is q | k | v: LoRA can target 'attn.c_attn.q' and 'attn.c_attn.v' (the usual q/v
 * recipe); a target naming all of 'attn.c_attn' adapts its whole output with one adapter, as PEFT does.
 */
const FUSED_PARTS: Readonly<Record<string, FusedParts>> = { 'attn.c_attn': { names: ['q', 'k', 'v'], wholeTarget: null } };

export class Gpt2 extends DecoderLm {
  protected finalHidden(batch: TokenBatch): Tensor {
    const { engine, config } = this;
    const tokens = F.embedding(this.weight('transformer.wte.weight'), batch.ids, [batch.batch, batch.seq]);
    let x = F.add(tokens, F.embedding(this.weight('transformer.wpe.weight'), positionIds(batch.seq), [batch.seq]));
    for (let layer = 0; layer < config.layers; layer++) {
      const input = x;
      x = engine.scope(() => this.block(input, `transformer.h.${layer}`));
      if (!activeTape()) (input.base ?? input).dispose();
    }
    return F.layerNorm(x, this.weight('transformer.ln_f.weight'), this.weight('transformer.ln_f.bias'), config.layerNormEps);
  }

  private block(x: Tensor, prefix: string): Tensor {
    const { heads, headDim, layerNormEps } = this.config;
    const attended = this.engine.scope(() => {
      const a = F.layerNorm(x, this.weight(`${prefix}.ln_1.weight`), this.weight(`${prefix}.ln_1.bias`), layerNormEps);
      const qkv = this.linear(`${prefix}.attn.c_attn`).forward(a); // [B, T, 3·H·D], parts q | k | v
      const q = splitHeads(qkv, heads, headDim, { stride: 3 * heads, offset: 0 });
      const k = splitHeads(qkv, heads, headDim, { stride: 3 * heads, offset: heads });
      const v = splitHeads(qkv, heads, headDim, { stride: 3 * heads, offset: 2 * heads });
      return this.linear(`${prefix}.attn.c_proj`).forward(causalAttention(q, k, v));
    });
    const afterAttention = F.add(x, attended);
    const transformed = this.engine.scope(() => {
      const m = F.layerNorm(afterAttention, this.weight(`${prefix}.ln_2.weight`), this.weight(`${prefix}.ln_2.bias`), layerNormEps);
      return this.linear(`${prefix}.mlp.c_proj`).forward(this.linear(`${prefix}.mlp.c_fc`).forwardGelu(m));
    });
    return F.add(afterAttention, transformed);
  }
}

export const gpt2: Architecture = {
  family: 'gpt2',
  projections: PROJECTIONS,
  fusedParts: FUSED_PARTS,
  tokenEmbedding: 'transformer.wte.weight',
  blockPrefix: (layer) => `transformer.h.${layer}`,
  parameters(config: DecoderConfig): ParamSpec[] {
    const { vocab, dModel: d, dFf, seq } = config;
    const specs: ParamSpec[] = [
      { name: 'transformer.wte.weight', shape: [vocab, d], group: 'embedding' },
      { name: 'transformer.wpe.weight', shape: [seq, d], group: 'embedding' },
    ];
    const conv1d = (name: string, group: 'attention' | 'mlp', inF: number, outF: number): ParamSpec[] => [
      { name: `${name}.weight`, shape: [outF, inF], group, transposedInFile: true },
      { name: `${name}.bias`, shape: [outF], group },
    ];
    const norm = (name: string): ParamSpec[] => [
      { name: `${name}.weight`, shape: [d], group: 'norm' },
      { name: `${name}.bias`, shape: [d], group: 'norm' },
    ];
    for (let layer = 0; layer < config.layers; layer++) {
      const p = `transformer.h.${layer}`;
      specs.push(
        ...norm(`${p}.ln_1`), ...conv1d(`${p}.attn.c_attn`, 'attention', d, 3 * d), ...conv1d(`${p}.attn.c_proj`, 'attention', d, d),
        ...norm(`${p}.ln_2`), ...conv1d(`${p}.mlp.c_fc`, 'mlp', d, dFf), ...conv1d(`${p}.mlp.c_proj`, 'mlp', dFf, d),
      );
    }
    specs.push(...norm('transformer.ln_f'));
    if (!config.tiedEmbeddings) specs.push({ name: 'lm_head.weight', shape: [vocab, d], group: 'head' });
    return specs;
  },
  create: (engine: Engine, config: DecoderConfig, values: ReadonlyMap<string, Float32Array>) => new Gpt2(engine, config, gpt2, values),
};
