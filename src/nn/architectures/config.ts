/**
 * The config of a pretrained decoder-only model (GPT-2, OPT, LLaMA, Qwen2): zolo's TransformerConfig
 * plus the fields that change the math between those families. Built from a Hugging Face
 * config.json by src/nn/hf/config.ts; one plain object, as the presets.
 */
import { ConfigError, assertPositiveInteger } from '../../errors.ts';
import { type TransformerConfig, validateConfig } from '../config.ts';

export const DECODER_FAMILIES = ['gpt2', 'opt', 'llama', 'qwen2'] as const;
export type DecoderFamily = (typeof DECODER_FAMILIES)[number];

export interface DecoderConfig extends TransformerConfig {
  family: DecoderFamily;
  /** key/value heads; fewer than `heads` is grouped-query attention (LLaMA-2 70B, Qwen2). */
  kvHeads: number;
  /** width of one attention head (LLaMA's head_dim may differ from dModel / heads). */
  headDim: number;
  /** the output matrix is the token embedding (logits = h·Eᵀ) instead of a separate lm_head. */
  tiedEmbeddings: boolean;
  /** rotary base θ (LLaMA, Qwen2); null where positions are learned (GPT-2, OPT). */
  ropeTheta: number | null;
  /** biases on the q, k, v projections (GPT-2, OPT, Qwen2; LLaMA's attention_bias). */
  qkvBias: boolean;
  /** bias on the attention output projection (GPT-2, OPT; LLaMA's attention_bias). */
  outputBias: boolean;
  /** biases on the MLP projections (GPT-2, OPT; LLaMA's mlp_bias). */
  mlpBias: boolean;
}

/** Checks the decoder-specific fields on top of validateConfig; returns the config unchanged. */
export function validateDecoderConfig(config: DecoderConfig): DecoderConfig {
  validateConfig(config);
  assertPositiveInteger('model.kvHeads', config.kvHeads);
  assertPositiveInteger('model.headDim', config.headDim);
  if (config.heads % config.kvHeads !== 0) {
    throw new ConfigError(`model.kvHeads must divide model.heads = ${config.heads}, got ${config.kvHeads}`);
  }
  if (config.ropeTheta !== null && !(config.ropeTheta > 0)) {
    throw new ConfigError(`model.ropeTheta must be positive, got ${config.ropeTheta}`);
  }
  if (config.ropeTheta !== null && config.headDim % 2 !== 0) {
    throw new ConfigError(`model.headDim must be even for rotary embeddings, got ${config.headDim}`);
  }
  return config;
}
