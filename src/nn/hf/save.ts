/**
 * Writes a model back as a Hugging Face folder that `from_pretrained` (and `loadHfModel`) reads:
 *   model.safetensors   every parameter under its state-dict name, F32, GPT-2's Conv1D weights
 *                       transposed back to [in, out], no lm_head when the head is tied (as
 *                       save_pretrained does); `__metadata__` {"format": "pt"}, which transformers requires
 *   config.json         the source folder's, with "dtype"/"torch_dtype" set to float32
 *   tokenizer.json, tokenizer_config.json, special_tokens_map.json, generation_config.json
 *                       copied from the source folder when present.
 * Adapter parameters have no place in that layout: LoRA adapters are merged into the weights they
 * adapt (W + (α/r)·B·A, adapters/merge.ts; the model itself keeps its adapters), and a model carrying
 * adapters that cannot be merged (AdaZeta's tensor-train adapters) is refused rather than saved
 * without them.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../errors.ts';
import { canMergeAdapters, mergedWeights } from '../adapters/merge.ts';
import type { DecoderLm } from '../architectures/decoderLm.ts';
import { type SafetensorsEntry, writeSafetensors } from '../safetensors.ts';
import { CONFIG_FILE, transpose } from './load.ts';
import { TOKENIZER_CONFIG_FILE, TOKENIZER_FILE } from './tokenizer.ts';
import { WEIGHTS_FILE, WEIGHTS_INDEX_FILE } from './weights.ts';

const COPIED_FILES = [TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, 'special_tokens_map.json', 'generation_config.json'];

export interface SaveHfOptions {
  /** the folder the model was loaded from: its config.json and tokenizer files are carried over. */
  sourceDir: string;
  /** replace weights already in `outDir` (default: refuse). */
  overwrite?: boolean;
}

export async function saveHfModel(model: DecoderLm, outDir: string, options: SaveHfOptions): Promise<void> {
  if (!canMergeAdapters(model)) {
    const adapters = model.params.all().filter((param) => param.group === 'adapter');
    throw new ConfigError(
      `saveHfModel: the model carries ${adapters.length} adapter parameters (${adapters[0]?.name ?? 'input adapters'}, …) that cannot be merged into its weights and that the Hugging Face layout has no place for; drop the adapters first`,
    );
  }
  if (!options.overwrite && (existsSync(join(outDir, WEIGHTS_FILE)) || existsSync(join(outDir, WEIGHTS_INDEX_FILE)))) {
    throw new ConfigError(`saveHfModel: ${outDir} already holds model weights; pass overwrite (--force) to replace them`);
  }
  const sourceConfig = join(options.sourceDir, CONFIG_FILE);
  if (!existsSync(sourceConfig)) throw new ConfigError(`saveHfModel: sourceDir ${options.sourceDir} has no ${CONFIG_FILE}`);
  mkdirSync(outDir, { recursive: true });

  const values = await mergedWeights(model);
  const entries: [string, SafetensorsEntry][] = [];
  for (const spec of model.architecture.parameters(model.config)) {
    const data = values.get(spec.name)!;
    entries.push(spec.transposedInFile
      ? [spec.name, { shape: [spec.shape[1]!, spec.shape[0]!], data: transpose(data, spec.shape[0]!, spec.shape[1]!) }]
      : [spec.name, { shape: [...spec.shape], data }]);
  }
  await writeSafetensors(join(outDir, WEIGHTS_FILE), entries, { format: 'pt' });

  const config = JSON.parse(readFileSync(sourceConfig, 'utf8')) as Record<string, unknown>;
  if ('torch_dtype' in config) config.torch_dtype = 'float32';
  config.dtype = 'float32';
  writeFileSync(join(outDir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  for (const file of COPIED_FILES) {
    if (existsSync(join(options.sourceDir, file))) copyFileSync(join(options.sourceDir, file), join(outDir, file));
  }
}
