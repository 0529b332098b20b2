/**
 * LLaMA (Touvron et al. 2023, arXiv 2302.13971; transformers' LlamaForCausalLM) and Qwen2, which
 * is the same network with biases on q, k, v (transformers' Qwen2ForCausalLM). Pre-RMSNorm:
 *   x = embed_tokens[ids]
 *   per block:  h = rmsNorm(x)
 *               x += o_proj(attention(rope(q_proj(h)), rope(k_proj(h)), v_proj(h)))   grouped-query:
 *                    H_kv key/value heads, each shared by H / H_kv query heads
 *               h = rmsNorm(x)
 *               x += down_proj(SiLU(gate_proj(h)) ⊙ up_proj(h))                       SwiGLU
 *   logits = rmsNorm(x)·lm_headᵀ   (or ·embed_tokensᵀ when tied)
 */
import type { Engine, Tensor } from '../../tensor/tensor.ts';
import type { TokenBatch } from '../batch.ts';
import * as F from '../functional.ts';
import { rmsNorm } from '../rmsNorm.ts';
import { type RotaryTables, applyRotary, rotaryTables } from '../rotary.ts';
import { activeTape } from '../tape.ts';
import { causalAttention, splitHeads } from './attention.ts';
import type { DecoderConfig } from './config.ts';
import { type Architecture, DecoderLm, type ParamSpec } from './decoderLm.ts';

const PROJECTIONS = [
  'self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj',
] as const;

export class Llama extends DecoderLm {
  protected finalHidden(batch: TokenBatch): Tensor {
    const { engine, config } = this;
    const rope = rotaryTables(engine, batch.seq, config.headDim, config.ropeTheta!);
    let x = F.embedding(this.weight('model.embed_tokens.weight'), batch.ids, [batch.batch, batch.seq]);
    for (let layer = 0; layer < config.layers; layer++) {
      const input = x;
      x = engine.scope(() => this.block(input, `model.layers.${layer}`, rope));
      if (!activeTape()) (input.base ?? input).dispose();
    }
    return rmsNorm(x, this.weight('model.norm.weight'), config.layerNormEps);
  }

  private block(x: Tensor, prefix: string, rope: RotaryTables): Tensor {
    const { heads, kvHeads, headDim, layerNormEps } = this.config;
    const attended = this.engine.scope(() => {
      const h = rmsNorm(x, this.weight(`${prefix}.input_layernorm.weight`), layerNormEps);
      const kvLayout = { stride: kvHeads, group: heads / kvHeads };
      const q = applyRotary(splitHeads(this.linear(`${prefix}.self_attn.q_proj`).forward(h), heads, headDim, { stride: heads }), rope);
      const k = applyRotary(splitHeads(this.linear(`${prefix}.self_attn.k_proj`).forward(h), heads, headDim, kvLayout), rope);
      const v = splitHeads(this.linear(`${prefix}.self_attn.v_proj`).forward(h), heads, headDim, kvLayout);
      return this.linear(`${prefix}.self_attn.o_proj`).forward(causalAttention(q, k, v));
    });
    const afterAttention = F.add(x, attended);
    const transformed = this.engine.scope(() => {
      const h = rmsNorm(afterAttention, this.weight(`${prefix}.post_attention_layernorm.weight`), layerNormEps);
      const gate = F.silu(this.linear(`${prefix}.mlp.gate_proj`).forward(h));
      return this.linear(`${prefix}.mlp.down_proj`).forward(F.mul(gate, this.linear(`${prefix}.mlp.up_proj`).forward(h)));
    });
    return F.add(afterAttention, transformed);
  }
}

function parameters(config: DecoderConfig): ParamSpec[] {
  const { vocab, dModel: d, dFf, heads, kvHeads, headDim } = config;
  const linear = (name: string, group: 'attention' | 'mlp', inF: number, outF: number, bias: boolean): ParamSpec[] => [
    { name: `${name}.weight`, shape: [outF, inF], group },
    ...(bias ? [{ name: `${name}.bias`, shape: [outF], group }] : []),
  ];
  const specs: ParamSpec[] = [{ name: 'model.embed_tokens.weight', shape: [vocab, d], group: 'embedding' }];
  for (let layer = 0; layer < config.layers; layer++) {
    const p = `model.layers.${layer}`;
    specs.push(
      { name: `${p}.input_layernorm.weight`, shape: [d], group: 'norm' },
      ...linear(`${p}.self_attn.q_proj`, 'attention', d, heads * headDim, config.qkvBias),
      ...linear(`${p}.self_attn.k_proj`, 'attention', d, kvHeads * headDim, config.qkvBias),
      ...linear(`${p}.self_attn.v_proj`, 'attention', d, kvHeads * headDim, config.qkvBias),
      ...linear(`${p}.self_attn.o_proj`, 'attention', heads * headDim, d, config.outputBias),
      { name: `${p}.post_attention_layernorm.weight`, shape: [d], group: 'norm' },
      ...linear(`${p}.mlp.gate_proj`, 'mlp', d, dFf, config.mlpBias),
      ...linear(`${p}.mlp.up_proj`, 'mlp', d, dFf, config.mlpBias),
      ...linear(`${p}.mlp.down_proj`, 'mlp', dFf, d, config.mlpBias),
    );
  }
  specs.push({ name: 'model.norm.weight', shape: [d], group: 'norm' });
  if (!config.tiedEmbeddings) specs.push({ name: 'lm_head.weight', shape: [vocab, d], group: 'head' });
  return specs;
}

export const llama: Architecture = {
  family: 'llama',
  projections: PROJECTIONS,
  tokenEmbedding: 'model.embed_tokens.weight',
  blockPrefix: (layer) => `model.layers.${layer}`,
  parameters,
  create: (engine: Engine, config: DecoderConfig, values: ReadonlyMap<string, Float32Array>) => new Llama(engine, config, llama, values),
};

export const qwen2: Architecture = { ...llama, family: 'qwen2', create: (engine, config, values) => new Llama(engine, config, qwen2, values) };
