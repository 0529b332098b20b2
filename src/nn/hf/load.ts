/**
 * Loads a Hugging Face model folder (config.json + safetensors weights) as a zolo model. Order of
 * work: config mapped and checked (ConfigError naming the field) → every weight file decoded →
 * every parameter found with the right shape (FormatError naming the tensor and both shapes) →
 * only then is the model built, so a bad folder never leaves a half-written model behind.
 * Tensors the model does not use (GPT-2's attention-mask buffers, a tied lm_head saved anyway)
 * are ignored.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, FormatError } from '../../errors.ts';
import type { Engine } from '../../tensor/tensor.ts';
import { ARCHITECTURES } from '../architectures/index.ts';
import type { DecoderConfig } from '../architectures/config.ts';
import type { DecoderLm, ParamSpec } from '../architectures/decoderLm.ts';
import type { SafetensorsEntry } from '../safetensors.ts';
import { decoderConfigFromHf } from './config.ts';
import { readHfTensors } from './weights.ts';

export const CONFIG_FILE = 'config.json';

/**
 * True when `path` is a folder holding a Hugging Face config.json: one that names a `model_type`
 * (a zolo run folder's config.json, the run config, does not). An unreadable config.json counts,
 * so that loading it reports the problem.
 */
export function isHfModelDir(path: string): boolean {
  const file = join(path, CONFIG_FILE);
  if (!existsSync(file)) return false;
  try {
    const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return typeof json === 'object' && json !== null && 'model_type' in json;
  } catch {
    return true;
  }
}

export async function readHfConfig(dir: string): Promise<DecoderConfig> {
  const file = join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: cannot read the model config (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  return decoderConfigFromHf(json, file);
}

/** [rows, cols] row-major → [cols, rows] (GPT-2's Conv1D layout ↔ zolo's Linear layout). */
export function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  }
  return out;
}

/** Older GPT-2 checkpoints (the original hub upload) name tensors without the "transformer." prefix. */
function findTensor(tensors: ReadonlyMap<string, SafetensorsEntry>, name: string): SafetensorsEntry | undefined {
  return tensors.get(name) ?? (name.startsWith('transformer.') ? tensors.get(name.slice('transformer.'.length)) : undefined);
}

/** Parameter values in zolo's layout, after checking every name and shape against the config. */
export function parameterValues(dir: string, config: DecoderConfig, specs: readonly ParamSpec[], tensors: ReadonlyMap<string, SafetensorsEntry>): Map<string, Float32Array> {
  const values = new Map<string, Float32Array>();
  for (const spec of specs) {
    const fileShape = spec.transposedInFile ? [...spec.shape].reverse() : [...spec.shape];
    const entry = findTensor(tensors, spec.name);
    if (!entry) throw new FormatError(`${dir}: has no tensor "${spec.name}" (shape [${fileShape.join(', ')}]) that a ${config.family} model with this config.json needs`);
    if (entry.shape.join(',') !== fileShape.join(',')) {
      throw new FormatError(`${dir}: tensor "${spec.name}" has shape [${entry.shape.join(', ')}], config.json implies [${fileShape.join(', ')}]`);
    }
    values.set(spec.name, spec.transposedInFile ? transpose(entry.data, fileShape[0]!, fileShape[1]!) : entry.data);
  }
  return values;
}

/** The model in `dir`, on `engine`. */
export async function loadHfModel(dir: string, engine: Engine): Promise<DecoderLm> {
  const config = await readHfConfig(dir);
  const architecture = ARCHITECTURES[config.family];
  const tensors = await readHfTensors(dir);
  const values = parameterValues(dir, config, architecture.parameters(config), tensors);
  return architecture.create(engine, config, values);
}
