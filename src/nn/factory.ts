/** Builds a model by kind and preset name (the entry point the CLI and experiments use). */
import { assertOneOf } from '../errors.ts';
import type { Engine } from '../tensor/tensor.ts';
import { CausalLm } from './causalLm.ts';
import { type TransformerConfig, presetConfig } from './config.ts';
import { EncoderClassifier } from './encoderClassifier.ts';
import { MODEL_KINDS, type ModelKind } from './model.ts';

/** Number of classes of the e-mail task (ham, spam); the default head width. */
export const DEFAULT_CLASSES = 2;

export interface ModelSpec {
  kind: ModelKind;
  /** 'tiny' | 'small'; unknown names throw a ConfigError listing the allowed ones. */
  preset: string;
  /** fields that replace the preset's (e.g. the tokenizer's vocab). */
  overrides?: Partial<TransformerConfig>;
  /** encoder-classifier only. */
  classes?: number;
  seed?: number;
}

export function createModel(engine: Engine, spec: ModelSpec & { kind: 'causal-lm' }): CausalLm;
export function createModel(engine: Engine, spec: ModelSpec & { kind: 'encoder-classifier' }): EncoderClassifier;
export function createModel(engine: Engine, spec: ModelSpec): CausalLm | EncoderClassifier;
export function createModel(engine: Engine, spec: ModelSpec): CausalLm | EncoderClassifier {
  const kind = assertOneOf('model.kind', spec.kind, MODEL_KINDS);
  const config = presetConfig(spec.preset, spec.overrides);
  if (kind === 'causal-lm') return new CausalLm(engine, config, spec.seed ?? 0);
  return new EncoderClassifier(engine, { ...config, classes: spec.classes ?? DEFAULT_CLASSES }, spec.seed ?? 0);
}
