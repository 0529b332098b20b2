/**
 * Model shapes. One plain config object per model (nanoGPT style); presets are named shapes the
 * whole project (and the PyTorch yardstick, ../shared/peers/torch_peer.py PRESETS) agrees on.
 */
import { ConfigError, assertPositiveInteger } from '../errors.ts';

export interface TransformerConfig {
  /** vocabulary size (rows of the token embedding). */
  vocab: number;
  /** model width d. */
  dModel: number;
  layers: number;
  heads: number;
  /** hidden width of the MLP (4·d in the presets). */
  dFf: number;
  /** maximum sequence length (rows of the learned positional embedding). */
  seq: number;
  /** layer-norm ε (torch's default 1e-5). */
  layerNormEps: number;
  /** standard deviation of the N(0, σ²) initialisation of weights (GPT-2: 0.02). */
  initStd: number;
}

export interface EncoderClassifierConfig extends TransformerConfig {
  classes: number;
}

export const PRESET_NAMES = ['tiny', 'small'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** GPT-2 initialisation scale (Radford et al. 2019, openai/gpt-2 model.py: normal std 0.02). */
export const GPT2_INIT_STD = 0.02;
/** torch.nn.LayerNorm's default ε. */
export const LAYER_NORM_EPS = 1e-5;
/** Largest vocabulary the presets are meant for (vocab ≤ 4096). */
export const PRESET_MAX_VOCAB = 4096;

export const PRESETS: Readonly<Record<PresetName, TransformerConfig>> = {
  tiny: { vocab: 4096, dModel: 128, layers: 2, heads: 4, dFf: 512, seq: 64, layerNormEps: LAYER_NORM_EPS, initStd: GPT2_INIT_STD },
  small: { vocab: 4096, dModel: 256, layers: 4, heads: 4, dFf: 1024, seq: 128, layerNormEps: LAYER_NORM_EPS, initStd: GPT2_INIT_STD },
};

/** The preset's shape with overrides applied and checked; unknown preset → ConfigError naming the allowed ones. */
export function presetConfig(name: string, overrides: Partial<TransformerConfig> = {}): TransformerConfig {
  if (!(PRESET_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(`model preset must be one of ${PRESET_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  }
  return validateConfig({ ...PRESETS[name as PresetName], ...overrides });
}

/** Checks every field; returns the config unchanged. */
export function validateConfig<T extends TransformerConfig>(config: T): T {
  for (const field of ['vocab', 'dModel', 'layers', 'heads', 'dFf', 'seq'] as const) {
    assertPositiveInteger(`model.${field}`, config[field]);
  }
  if (config.dModel % config.heads !== 0) {
    throw new ConfigError(`model.heads must divide model.dModel = ${config.dModel}, got ${config.heads}`);
  }
  if (!(config.layerNormEps > 0)) throw new ConfigError(`model.layerNormEps must be positive, got ${config.layerNormEps}`);
  if (!(config.initStd > 0)) throw new ConfigError(`model.initStd must be positive, got ${config.initStd}`);
  if ('classes' in config) assertPositiveInteger('model.classes', (config as unknown as EncoderClassifierConfig).classes);
  return config;
}
