/**
 * Model checkpoints: a safetensors file (safetensors.ts) with every parameter of the model's
 * ParamStore under its name, plus the model in `__metadata__`:
 *   zolo.format  "zolo-checkpoint/1"
 *   zolo.kind    "causal-lm" | "encoder-classifier"
 *   zolo.config  JSON of the TransformerConfig (+ classes); a decoder family's config (the
 *                llama-* presets) names its `family`, and its parameters keep that family's names
 *   zolo.labelTokenIds  JSON array, when a PromptClassifier was saved
 *   any caller-given keys (tokenizer, training card, …), strings only.
 * Layout and forward computation: docs/checkpoint-format.md.
 */
import { FormatError, ZoloError } from '../errors.ts';
import type { Engine } from '../tensor/tensor.ts';
import { validateDecoderConfig } from './architectures/config.ts';
import { ARCHITECTURES } from './architectures/index.ts';
import { CausalLm } from './causalLm.ts';
import { type EncoderClassifierConfig, type TransformerConfig, validateConfig } from './config.ts';
import { isDecoderConfig, type LanguageModel } from './languageModel.ts';
import { EncoderClassifier } from './encoderClassifier.ts';
import { MODEL_KINDS, type ModelKind } from './model.ts';
import { PromptClassifier } from './promptClassifier.ts';
import { readSafetensors, type SafetensorsEntry, writeSafetensors } from './safetensors.ts';

export const CHECKPOINT_FORMAT = 'zolo-checkpoint/1';

export type SavableModel = LanguageModel | EncoderClassifier | PromptClassifier;

/** Writes every parameter (adapters included) and the model config; atomic (temp file + rename). */
export async function saveCheckpoint(file: string, model: SavableModel, extraMetadata: Record<string, string> = {}): Promise<void> {
  const base = model instanceof PromptClassifier ? model.lm : model;
  const metadata: Record<string, string> = {
    ...extraMetadata,
    'zolo.format': CHECKPOINT_FORMAT,
    'zolo.kind': base.kind,
    'zolo.config': JSON.stringify(base.config),
  };
  if (model instanceof PromptClassifier) metadata['zolo.labelTokenIds'] = JSON.stringify([...model.labelTokenIds]);
  const snapshot = await base.params.snapshot();
  const entries: [string, SafetensorsEntry][] = base.params.all().map((param) => [
    param.name,
    { shape: [...param.tensor.shape], data: snapshot.get(param.name)! },
  ]);
  await writeSafetensors(file, entries, metadata);
}

export interface LoadedCheckpoint {
  model: LanguageModel | EncoderClassifier;
  /** set when the file holds a PromptClassifier's label words. */
  prompt: PromptClassifier | null;
  metadata: Record<string, string>;
  /** every tensor in the file by name, including ones the bare model has no parameter for (adapters). */
  tensors: Map<string, Float32Array>;
}

/** Rebuilds the model from the file's config and loads its parameters. Errors name the file. */
export async function loadCheckpoint(file: string, engine: Engine): Promise<LoadedCheckpoint> {
  const { tensors, metadata } = await readSafetensors(file);
  const fail = (what: string): never => {
    throw new FormatError(`${file}: ${what}`);
  };
  if (metadata['zolo.format'] !== CHECKPOINT_FORMAT) {
    fail(`not a zolo checkpoint (__metadata__ "zolo.format" is ${JSON.stringify(metadata['zolo.format'])}, expected "${CHECKPOINT_FORMAT}")`);
  }
  const kind = metadata['zolo.kind'] as ModelKind;
  if (!(MODEL_KINDS as readonly string[]).includes(kind)) fail(`"zolo.kind" must be one of ${MODEL_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
  let config: TransformerConfig;
  try {
    const parsed = JSON.parse(metadata['zolo.config'] ?? '') as TransformerConfig;
    config = isDecoderConfig(parsed) ? validateDecoderConfig(parsed) : validateConfig(parsed);
  } catch (error) {
    return fail(`"zolo.config" is not a valid model config (${(error as Error).message})`);
  }
  const decoder = isDecoderConfig(config) ? config : null;
  if (decoder && !Object.hasOwn(ARCHITECTURES, decoder.family)) {
    fail(`"zolo.config" names family ${JSON.stringify(decoder.family)}, not one of ${Object.keys(ARCHITECTURES).join(', ')}`);
  }
  if (decoder && kind !== 'causal-lm') fail(`a ${decoder.family} config is a causal LM, but "zolo.kind" is ${JSON.stringify(kind)}`);
  const zoloModel = decoder ? null : kind === 'causal-lm' ? new CausalLm(engine, config) : new EncoderClassifier(engine, config as EncoderClassifierConfig);
  // every parameter the config implies, by name and shape
  const shapes: [string, readonly number[]][] = decoder
    ? ARCHITECTURES[decoder.family].parameters(decoder).map((spec) => [spec.name, spec.shape])
    : zoloModel!.params.all().map((param) => [param.name, param.tensor.shape]);
  const values = new Map<string, Float32Array>();
  for (const [name, shape] of shapes) {
    const entry = tensors.get(name);
    const expected = `[${shape.join(', ')}]`;
    if (!entry) fail(`has no tensor "${name}" (shape ${expected}) that a ${decoder?.family ?? kind} with this config needs`);
    if (`[${entry!.shape.join(', ')}]` !== expected) fail(`tensor "${name}" has shape [${entry!.shape.join(', ')}], the model needs ${expected}`);
    values.set(name, entry!.data);
  }
  zoloModel?.params.load(values);
  const model: LanguageModel | EncoderClassifier = zoloModel ?? ARCHITECTURES[decoder!.family].create(engine, decoder!, values);
  let prompt: PromptClassifier | null = null;
  if (metadata['zolo.labelTokenIds'] !== undefined) {
    if (model.kind !== 'causal-lm') fail('"zolo.labelTokenIds" is set but the model is not a causal LM');
    try {
      const ids = JSON.parse(metadata['zolo.labelTokenIds']) as number[];
      if (!Array.isArray(ids)) throw new ZoloError('not an array');
      prompt = new PromptClassifier(model as LanguageModel, Int32Array.from(ids));
    } catch (error) {
      fail(`"zolo.labelTokenIds" is not a JSON array of token ids (${(error as Error).message})`);
    }
  }
  return { model, prompt, metadata, tensors: new Map([...tensors].map(([name, entry]) => [name, entry.data])) };
}
