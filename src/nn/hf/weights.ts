/**
 * The weights of a Hugging Face model folder, as `save_pretrained` writes them:
 *   model.safetensors                     one file, or
 *   model.safetensors.index.json          {"metadata": …, "weight_map": {tensor name: shard file}}
 *   model-00001-of-0000N.safetensors …    the shards it names.
 * Every file is decoded in full (F32, F16 or BF16 → float32) before anything is returned, so a
 * truncated shard or an index naming a tensor its shard lacks fails before a model is built.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from '../../errors.ts';
import { readSafetensors, type SafetensorsEntry } from '../safetensors.ts';

export const WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';

/** Every tensor of the folder's weights by name. */
export async function readHfTensors(dir: string): Promise<Map<string, SafetensorsEntry>> {
  const single = join(dir, WEIGHTS_FILE);
  const index = join(dir, WEIGHTS_INDEX_FILE);
  if (existsSync(single)) return (await readSafetensors(single)).tensors;
  if (!existsSync(index)) {
    const pickle = existsSync(join(dir, 'pytorch_model.bin')) ? ' (it has pytorch_model.bin: zolo reads safetensors only; re-save with save_pretrained(…, safe_serialization=True))' : '';
    throw new FormatError(`${dir}: has neither ${WEIGHTS_FILE} nor ${WEIGHTS_INDEX_FILE}${pickle}`);
  }
  let weightMap: Record<string, unknown>;
  try {
    const parsed = JSON.parse(await readFile(index, 'utf8')) as { weight_map?: unknown };
    if (parsed.weight_map === null || typeof parsed.weight_map !== 'object' || Array.isArray(parsed.weight_map)) {
      throw new Error('"weight_map" is not an object of tensor name → shard file');
    }
    weightMap = parsed.weight_map as Record<string, unknown>;
  } catch (error) {
    throw new FormatError(`${index}: not a valid safetensors index (${(error as Error).message})`);
  }
  const shards = new Map<string, Map<string, SafetensorsEntry>>();
  for (const [name, file] of Object.entries(weightMap)) {
    if (typeof file !== 'string' || file.includes('/') || file.includes('\\')) {
      throw new FormatError(`${index}: "weight_map.${name}" must name a shard file in the same folder, got ${JSON.stringify(file)}`);
    }
    if (!shards.has(file)) shards.set(file, (await readSafetensors(join(dir, file))).tensors);
  }
  const tensors = new Map<string, SafetensorsEntry>();
  for (const [name, file] of Object.entries(weightMap) as [string, string][]) {
    const entry = shards.get(file)!.get(name);
    if (!entry) throw new FormatError(`${index}: names shard ${file} for tensor "${name}", but that shard has no such tensor`);
    tensors.set(name, entry);
  }
  return tensors;
}
