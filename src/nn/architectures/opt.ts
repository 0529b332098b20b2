/**
 * OPT (Zhang et al. 2022, arXiv 2205.01068; transformers' OPTForCausalLM), pre-LN variant (every
 * size except 350m):
 *   x = embed_tokens[ids] + embed_positions[2..T+1]     (learned positions, offset by 2 as in fairseq)
 *   per block:  x += out_proj(attention(q_proj, k_proj, v_proj of self_attn_layer_norm(x)))
 *               x += fc2(ReLU(fc1(final_layer_norm(x))))
 *   logits = final_layer_norm(x)·embed_tokensᵀ          (tied head; lm_head when untied)
 */
import type { Engine, Tensor } from '../../tensor/tensor.ts';
import type { TokenBatch } from '../batch.ts';
import * as F from '../functional.ts';
import { activeTape } from '../tape.ts';
import { causalAttention, splitHeads } from './attention.ts';
import type { DecoderConfig } from './config.ts';
import { type Architecture, DecoderLm, type ParamSpec, positionIds } from './decoderLm.ts';

/** OPT's learned positions start at row 2 (fairseq reserved rows for padding). */
export const OPT_POSITION_OFFSET = 2;

const PROJECTIONS = ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj', 'self_attn.out_proj', 'fc1', 'fc2'] as const;

export class Opt extends DecoderLm {
  protected finalHidden(batch: TokenBatch): Tensor {
    const { engine, config } = this;
    const tokens = F.embedding(this.weight('model.decoder.embed_tokens.weight'), batch.ids, [batch.batch, batch.seq]);
    const positions = F.embedding(this.weight('model.decoder.embed_positions.weight'), positionIds(batch.seq, OPT_POSITION_OFFSET), [batch.seq]);
    let x = F.add(tokens, positions);
    for (let layer = 0; layer < config.layers; layer++) {
      const input = x;
      x = engine.scope(() => this.block(input, `model.decoder.layers.${layer}`));
      if (!activeTape()) (input.base ?? input).dispose();
    }
    return this.layerNorm(x, 'model.decoder.final_layer_norm');
  }

  private layerNorm(x: Tensor, name: string): Tensor {
    return F.layerNorm(x, this.weight(`${name}.weight`), this.weight(`${name}.bias`), this.config.layerNormEps);
  }

  private block(x: Tensor, prefix: string): Tensor {
    const { heads, headDim } = this.config;
    const attended = this.engine.scope(() => {
      const h = this.layerNorm(x, `${prefix}.self_attn_layer_norm`);
      const q = splitHeads(this.linear(`${prefix}.self_attn.q_proj`).forward(h), heads, headDim, { stride: heads });
      const k = splitHeads(this.linear(`${prefix}.self_attn.k_proj`).forward(h), heads, headDim, { stride: heads });
      const v = splitHeads(this.linear(`${prefix}.self_attn.v_proj`).forward(h), heads, headDim, { stride: heads });
      return this.linear(`${prefix}.self_attn.out_proj`).forward(causalAttention(q, k, v));
    });
    const afterAttention = F.add(x, attended);
    const transformed = this.engine.scope(() => {
      const h = this.layerNorm(afterAttention, `${prefix}.final_layer_norm`);
      return this.linear(`${prefix}.fc2`).forward(F.relu(this.linear(`${prefix}.fc1`).forward(h)));
    });
    return F.add(afterAttention, transformed);
  }
}

export const opt: Architecture = {
  family: 'opt',
  projections: PROJECTIONS,
  tokenEmbedding: 'model.decoder.embed_tokens.weight',
  blockPrefix: (layer) => `model.decoder.layers.${layer}`,
  parameters(config: DecoderConfig): ParamSpec[] {
    const { vocab, dModel: d, dFf, seq } = config;
    const linear = (name: string, group: 'attention' | 'mlp', inF: number, outF: number, bias: boolean): ParamSpec[] => [
      { name: `${name}.weight`, shape: [outF, inF], group },
      ...(bias ? [{ name: `${name}.bias`, shape: [outF], group }] : []),
    ];
    const norm = (name: string): ParamSpec[] => [
      { name: `${name}.weight`, shape: [d], group: 'norm' },
      { name: `${name}.bias`, shape: [d], group: 'norm' },
    ];
    const specs: ParamSpec[] = [
      { name: 'model.decoder.embed_tokens.weight', shape: [vocab, d], group: 'embedding' },
      { name: 'model.decoder.embed_positions.weight', shape: [seq + OPT_POSITION_OFFSET, d], group: 'embedding' },
    ];
    for (let layer = 0; layer < config.layers; layer++) {
      const p = `model.decoder.layers.${layer}`;
      specs.push(
        ...norm(`${p}.self_attn_layer_norm`),
        ...linear(`${p}.self_attn.q_proj`, 'attention', d, d, config.qkvBias),
        ...linear(`${p}.self_attn.k_proj`, 'attention', d, d, config.qkvBias),
        ...linear(`${p}.self_attn.v_proj`, 'attention', d, d, config.qkvBias),
        ...linear(`${p}.self_attn.out_proj`, 'attention', d, d, config.outputBias),
        ...norm(`${p}.final_layer_norm`),
        ...linear(`${p}.fc1`, 'mlp', d, dFf, config.mlpBias),
        ...linear(`${p}.fc2`, 'mlp', dFf, d, config.mlpBias),
      );
    }
    specs.push(...norm('model.decoder.final_layer_norm'));
    if (!config.tiedEmbeddings) specs.push({ name: 'lm_head.weight', shape: [vocab, d], group: 'head' });
    return specs;
  },
  create: (engine: Engine, config: DecoderConfig, values: ReadonlyMap<string, Float32Array>) => new Opt(engine, config, opt, values),
};
