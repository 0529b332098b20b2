/**
 * The causal language models zolo pretrains and fine-tunes: its own transformer (CausalLm: the
 * tiny and small presets) and the decoder families of src/nn/architectures (DecoderLm: the
 * llama-* presets and Hugging Face folders). Both offer the Model interface plus hidden() and
 * outputMatrix(), which prompt-style classification reads.
 */
import { ConfigError } from '../errors.ts';
import type { Engine } from '../tensor/tensor.ts';
import type { DecoderConfig } from './architectures/config.ts';
import type { DecoderLm } from './architectures/decoderLm.ts';
import { ARCHITECTURES } from './architectures/index.ts';
import { randomDecoderValues } from './architectures/init.ts';
import { DECODER_PRESET_NAMES, decoderPresetConfig, isDecoderPreset } from './architectures/presets.ts';
import { CausalLm } from './causalLm.ts';
import { PRESET_NAMES, type TransformerConfig, presetConfig } from './config.ts';

export type LanguageModel = CausalLm | DecoderLm;

export const LANGUAGE_MODEL_PRESET_NAMES: readonly string[] = [...PRESET_NAMES, ...DECODER_PRESET_NAMES];

/** A decoder family's config (it names the family) rather than zolo's own transformer's. */
export function isDecoderConfig(config: TransformerConfig): config is DecoderConfig {
  return 'family' in config;
}

/** The shape of preset `name` (tiny, small, llama-tiny, llama-20m) with its vocabulary replaced when given. */
export function languageModelConfig(name: string, overrides: { vocab?: number } = {}): TransformerConfig | DecoderConfig {
  if (isDecoderPreset(name)) return decoderPresetConfig(name, overrides);
  if ((PRESET_NAMES as readonly string[]).includes(name)) return presetConfig(name, overrides);
  throw new ConfigError(`model preset must be one of ${LANGUAGE_MODEL_PRESET_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
}

/** A randomly initialised language model of `config`; (config, seed) fixes its weights. */
export function createLanguageModel(engine: Engine, config: TransformerConfig | DecoderConfig, seed: number): LanguageModel {
  if (!isDecoderConfig(config)) return new CausalLm(engine, config, seed);
  const architecture = ARCHITECTURES[config.family];
  return architecture.create(engine, config, randomDecoderValues(architecture, config, seed));
}
