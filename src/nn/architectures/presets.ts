/**
 * LLaMA shapes zolo pretrains from scratch with its own tokenizer (`zolo pretrain --model
 * llama-tiny`): GaLore's pretraining architecture (arXiv 2403.03507 §5.1, the repository's
 * configs/llama_*.json: RMSNorm ε 1e-6, SwiGLU with intermediate ≈ 8/3·d, rotary θ 10⁴, untied
 * lm_head, no biases, N(0, 0.02²) init) at sizes a 2-core CPU can train. The vocabulary defaults to
 * the presets' 4096 (zolo's byte-level BPE trained on the e-mail corpus) instead of LLaMA's 32k, so
 * the embedding and head are 2·4096·d of the parameters.
 */
import { ConfigError } from '../../errors.ts';
import type { TransformerConfig } from '../config.ts';
import { type DecoderConfig, validateDecoderConfig } from './config.ts';

/** LlamaConfig.initializer_range, the std of every matrix and embedding at init. */
const LLAMA_INIT_STD = 0.02;

/** transformers' LlamaConfig defaults the GaLore configs keep. */
const LLAMA_SHAPE = {
  family: 'llama', tiedEmbeddings: false, ropeTheta: 10000, qkvBias: false, outputBias: false, mlpBias: false,
  layerNormEps: 1e-6, initStd: LLAMA_INIT_STD,
} as const;

export const DECODER_PRESETS = {
  /** 1,008,096 parameters at vocab 4096: d 96, 2 layers, 4 heads of 24, SwiGLU 256 (= 8/3·d), 64 tokens */
  'llama-tiny': { ...LLAMA_SHAPE, vocab: 4096, dModel: 96, layers: 2, heads: 4, kvHeads: 4, headDim: 24, dFf: 256, seq: 64 },
  /** 20,848,512 parameters at vocab 4096: d 384, 10 layers, 6 heads of 64, SwiGLU 1024 (= 8/3·d), 256 tokens (GaLore's length) */
  'llama-20m': { ...LLAMA_SHAPE, vocab: 4096, dModel: 384, layers: 10, heads: 6, kvHeads: 6, headDim: 64, dFf: 1024, seq: 256 },
} as const satisfies Record<string, DecoderConfig>;

export type DecoderPresetName = keyof typeof DECODER_PRESETS;
export const DECODER_PRESET_NAMES = Object.keys(DECODER_PRESETS) as DecoderPresetName[];

export function isDecoderPreset(name: string): name is DecoderPresetName {
  return Object.hasOwn(DECODER_PRESETS, name);
}

/** The preset's config with the vocabulary or context replaced (e.g. by the tokenizer's vocab), checked. */
export function decoderPresetConfig(name: string, overrides: Partial<Pick<TransformerConfig, 'vocab' | 'seq'>> = {}): DecoderConfig {
  if (!isDecoderPreset(name)) throw new ConfigError(`decoder preset must be one of ${DECODER_PRESET_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  return validateDecoderConfig({ ...DECODER_PRESETS[name], ...overrides });
}
