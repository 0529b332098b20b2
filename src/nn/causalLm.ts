/**
 * Causal language model with tied output embedding: logits = ln_f(h)·Eᵀ, E = tok.weight
 * [vocab, d] (GPT-2; Press & Wolf 2017). No separate head parameters.
 */
import { ParamStore } from '../tensor/params.ts';
import type { Engine, Tensor } from '../tensor/tensor.ts';
import { type LanguageModelBatch, type TokenBatch, checkTokenBatch } from './batch.ts';
import { type TransformerConfig, validateConfig } from './config.ts';
import { initStreams } from './init.ts';
import type { Linear } from './linear.ts';
import { lmLogits, lmLoss, lmLossTensor } from './lmObjective.ts';
import type { Model } from './model.ts';
import { Transformer } from './transformer.ts';

export class CausalLm implements Model<LanguageModelBatch> {
  readonly kind = 'causal-lm' as const;
  readonly params: ParamStore;
  readonly trunk: Transformer;

  /** A freshly initialised model (seeded; see init.ts). */
  constructor(readonly engine: Engine, readonly config: TransformerConfig, readonly seed = 0) {
    validateConfig(config);
    this.params = new ParamStore(engine);
    this.trunk = new Transformer(this.params, config, initStreams(seed), true);
  }

  /** Final hidden states [B, T, d] (after ln_f). */
  hidden(batch: TokenBatch): Tensor {
    checkTokenBatch(batch, this.config);
    return this.engine.scope(() => this.trunk.hidden(this.engine, batch));
  }

  /** [vocab, d]: the tied output matrix E. */
  outputMatrix(): Tensor {
    return this.trunk.tok.tensor;
  }

  /** Next-token logits [B, T, vocab] = h·Eᵀ. */
  forward(batch: TokenBatch): Tensor {
    return lmLogits(this, batch);
  }

  lossTensor(batch: LanguageModelBatch): Tensor {
    return lmLossTensor(this, batch);
  }

  loss(batch: LanguageModelBatch): Promise<number> {
    return lmLoss(this, batch);
  }

  linears(): ReadonlyMap<string, Linear> {
    return linearsOf(this.trunk);
  }
}

export function linearsOf(trunk: Transformer): Map<string, Linear> {
  const out = new Map<string, Linear>();
  for (const block of trunk.blocks) {
    for (const linear of [block.attn.qkv, block.attn.proj, block.mlp.fc1, block.mlp.fc2]) out.set(linear.name, linear);
  }
  return out;
}
