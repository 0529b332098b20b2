/**
 * Hugging Face config.json → DecoderConfig. Every field that changes the forward computation is
 * either mapped or refused: a config zolo cannot reproduce exactly (rope scaling, sliding windows,
 * another activation, post-norm OPT …) is a ConfigError naming the field, its value and what is
 * supported, raised before any weight is read. Fields that only matter to training in PyTorch
 * (dropout, use_cache, initializer_range …) are ignored.
 */
import { ConfigError, describeValue } from '../../errors.ts';
import { DECODER_FAMILIES, type DecoderConfig, type DecoderFamily, validateDecoderConfig } from '../architectures/config.ts';

type Json = Record<string, unknown>;

/** Reads fields of one config.json, naming the file in every error. */
class Fields {
  constructor(readonly json: Json, readonly source: string) {}

  fail(field: string, what: string): never {
    throw new ConfigError(`${this.source}: "${field}" ${what}, got ${describeValue(this.json[field])}`);
  }

  has(field: string): boolean {
    return this.json[field] !== undefined && this.json[field] !== null;
  }

  int(field: string, fallback?: number): number {
    if (!this.has(field)) {
      if (fallback !== undefined) return fallback;
      this.fail(field, 'is required and must be a positive integer');
    }
    const value = this.json[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) this.fail(field, 'must be a positive integer');
    return value as number;
  }

  number(field: string, fallback?: number): number {
    if (!this.has(field)) {
      if (fallback !== undefined) return fallback;
      this.fail(field, 'is required and must be a positive number');
    }
    const value = this.json[field];
    if (typeof value !== 'number' || !(value > 0)) this.fail(field, 'must be a positive number');
    return value as number;
  }

  bool(field: string, fallback: boolean): boolean {
    if (!this.has(field)) return fallback;
    const value = this.json[field];
    if (typeof value !== 'boolean') this.fail(field, 'must be true or false');
    return value as boolean;
  }

  /** The field must be absent, null or one of `allowed` (the values whose math zolo implements). */
  only(field: string, allowed: readonly unknown[], why: string): void {
    if (!this.has(field)) return;
    if (!allowed.includes(this.json[field])) this.fail(field, `must be ${allowed.map(describeValue).join(' or ')} (${why})`);
  }
}

/** The families zolo implements, keyed by config.json's model_type. */
export const SUPPORTED_MODEL_TYPES: readonly DecoderFamily[] = DECODER_FAMILIES;

/** Maps a parsed config.json; `source` names the file in errors. */
export function decoderConfigFromHf(json: unknown, source: string): DecoderConfig {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new ConfigError(`${source}: must hold a JSON object, got ${describeValue(json)}`);
  }
  const fields = new Fields(json as Json, source);
  const modelType = fields.json.model_type;
  if (!(DECODER_FAMILIES as readonly unknown[]).includes(modelType)) {
    fields.fail('model_type', `must be one of ${DECODER_FAMILIES.join(', ')} (the families zolo implements)`);
  }
  const family = modelType as DecoderFamily;
  const config = family === 'gpt2' ? gpt2(fields) : family === 'opt' ? opt(fields) : llamaLike(fields, family);
  try {
    return validateDecoderConfig(config);
  } catch (error) {
    throw new ConfigError(`${source}: ${(error as Error).message}`);
  }
}

function gpt2(f: Fields): DecoderConfig {
  f.only('activation_function', ['gelu_new', 'gelu_pytorch_tanh'], 'zolo implements the tanh-approximate GELU GPT-2 uses');
  f.only('scale_attn_by_inverse_layer_idx', [false], 'scores are scaled by 1/√d_head only');
  f.only('scale_attn_weights', [true], 'scores are scaled by 1/√d_head');
  f.only('add_cross_attention', [false], 'zolo implements decoder-only models');
  const dModel = f.int('n_embd');
  const heads = f.int('n_head');
  return {
    family: 'gpt2', vocab: f.int('vocab_size'), dModel, layers: f.int('n_layer'), heads, kvHeads: heads,
    headDim: dModel / heads, dFf: f.int('n_inner', 4 * dModel), seq: f.int('n_positions'),
    layerNormEps: f.number('layer_norm_epsilon', 1e-5), initStd: f.number('initializer_range', 0.02),
    tiedEmbeddings: f.bool('tie_word_embeddings', true), ropeTheta: null, qkvBias: true, outputBias: true, mlpBias: true,
  };
}

function opt(f: Fields): DecoderConfig {
  f.only('activation_function', ['relu'], 'zolo implements OPT with ReLU');
  f.only('do_layer_norm_before', [true], 'zolo implements pre-norm OPT; OPT-350m\'s post-norm is not supported');
  f.only('_remove_final_layer_norm', [false], 'the final layer norm is always applied');
  f.only('layer_norm_elementwise_affine', [true], 'layer norms carry a weight and a bias');
  const dModel = f.int('hidden_size');
  const heads = f.int('num_attention_heads');
  if (f.has('word_embed_proj_dim') && f.json.word_embed_proj_dim !== dModel) {
    f.fail('word_embed_proj_dim', `must equal hidden_size = ${dModel} (embedding projections are not supported)`);
  }
  const bias = f.bool('enable_bias', true);
  return {
    family: 'opt', vocab: f.int('vocab_size'), dModel, layers: f.int('num_hidden_layers'), heads, kvHeads: heads,
    headDim: dModel / heads, dFf: f.int('ffn_dim'), seq: f.int('max_position_embeddings'),
    layerNormEps: 1e-5, initStd: f.number('init_std', 0.02), tiedEmbeddings: f.bool('tie_word_embeddings', true),
    ropeTheta: null, qkvBias: bias, outputBias: bias, mlpBias: bias,
  };
}

/** The rotary base, from `rope_parameters` (transformers ≥ 5) or `rope_theta` + `rope_scaling` (older). */
function ropeTheta(f: Fields, fallback: number): number {
  f.only('rope_scaling', [], 'scaled rotary embeddings (linear, dynamic, YaRN, llama3) are not supported');
  if (!f.has('rope_parameters')) return f.number('rope_theta', fallback);
  const rope = f.json.rope_parameters as Json;
  if (typeof rope !== 'object' || Array.isArray(rope)) f.fail('rope_parameters', 'must be an object');
  if (rope.rope_type !== undefined && rope.rope_type !== 'default') {
    throw new ConfigError(`${f.source}: "rope_parameters.rope_type" must be "default" (scaled rotary embeddings are not supported), got ${describeValue(rope.rope_type)}`);
  }
  const theta = rope.rope_theta ?? fallback;
  if (typeof theta !== 'number' || !(theta > 0)) {
    throw new ConfigError(`${f.source}: "rope_parameters.rope_theta" must be a positive number, got ${describeValue(theta)}`);
  }
  return theta;
}

function llamaLike(f: Fields, family: 'llama' | 'qwen2'): DecoderConfig {
  f.only('hidden_act', ['silu'], 'zolo implements the SwiGLU MLP with SiLU');
  f.only('use_sliding_window', [false], 'sliding-window attention is not supported');
  if (family === 'llama') f.only('sliding_window', [], 'sliding-window attention is not supported');
  const layerTypes = f.json.layer_types;
  if (Array.isArray(layerTypes) && layerTypes.some((type) => type !== 'full_attention')) {
    f.fail('layer_types', 'must list only "full_attention" (sliding-window layers are not supported)');
  }
  const dModel = f.int('hidden_size');
  const heads = f.int('num_attention_heads');
  const attentionBias = f.bool('attention_bias', false);
  return {
    family, vocab: f.int('vocab_size'), dModel, layers: f.int('num_hidden_layers'), heads,
    kvHeads: f.int('num_key_value_heads', heads), headDim: f.int('head_dim', dModel / heads),
    dFf: f.int('intermediate_size'), seq: f.int('max_position_embeddings'),
    layerNormEps: f.number('rms_norm_eps', 1e-6), initStd: f.number('initializer_range', 0.02),
    // LLaMA unties by default, Qwen2's small models tie (transformers' defaults: false, false)
    tiedEmbeddings: f.bool('tie_word_embeddings', false), ropeTheta: ropeTheta(f, 10000),
    qkvBias: family === 'qwen2' ? true : attentionBias, outputBias: family === 'qwen2' ? false : attentionBias,
    mlpBias: f.bool('mlp_bias', false),
  };
}
