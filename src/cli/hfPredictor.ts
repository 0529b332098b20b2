/**
 * `zolo predict` on Hugging Face models, prompt-style: "[bos] <e-mail> <suffix>" and the class
 * logits are the next-token logits of one label word per class (as `zolo run --model <folder>`
 * trains them). `--model` may be
 *   a model folder        config.json naming a model_type, safetensors weights, tokenizer.json;
 *                         prompt and sequence length from the flags, else the task's defaults and
 *                         the model's context;
 *   a run folder          what `zolo run --task spam --model <folder>` wrote: its `hf/` export
 *                         (LoRA merged in), read with the run's prompt template and taskOptions.seq.
 *                         A run whose adapters cannot be merged (tensor-train) has no `hf/`: its
 *                         source folder is loaded, the run's adapters attached and every parameter
 *                         set from its model.safetensors.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CARD_FILE } from '../data/checkpointCard.ts';
import { CLASS_NAMES } from '../data/spam.ts';
import { EmailTask, type PromptTemplate } from '../data/tasks.ts';
import { ConfigError, FormatError } from '../errors.ts';
import { createBackend } from '../kernels/index.ts';
import { attachAdapters } from '../nn/adapters/index.ts';
import type { DecoderLm } from '../nn/architectures/index.ts';
import { CONFIG_FILE, HfTokenizer, isHfModelDir, loadHfModel } from '../nn/hf/index.ts';
import { PromptClassifier } from '../nn/promptClassifier.ts';
import { readSafetensors } from '../nn/safetensors.ts';
import { Engine, MemoryLedger } from '../tensor/index.ts';
import { adapterSpecOf } from '../experiment/fineTuneCard.ts';
import { FILES, readRunConfig } from '../experiment/runner.ts';
import { HF_EXPORT_DIR, hfTaskTokenizer, parseSpamOptions, SPAM_TASK } from '../experiment/spamWorkload.ts';
import type { RunConfig } from '../experiment/config.ts';
import { assertFiniteWeights, type Classifier, emailsOfTexts } from './classifier.ts';

/** Overrides of the prompt a Hugging Face model is read with (`--prompt-suffix`, `--label-words`, `--seq`). */
export interface HfPromptOptions {
  suffix?: string;
  labelWords?: readonly [string, string];
  seq?: number;
}

/** Where the model comes from, and what a run recorded about how it was trained. */
interface HfSource {
  /** folder of config.json and tokenizer.json */
  modelDir: string;
  prompt: Partial<PromptTemplate>;
  seq: number | null;
  /** set when the weights are a run's model.safetensors over `modelDir` with the run's adapters */
  runWeights: { file: string; config: RunConfig } | null;
}

function sourceOf(dir: string): HfSource {
  if (isHfModelDir(dir)) return { modelDir: dir, prompt: {}, seq: null, runWeights: null };
  if (!existsSync(join(dir, FILES.config))) {
    throw new ConfigError(`--model ${dir} is not a checkpoint directory (no ${CARD_FILE}), a Hugging Face model folder (no ${CONFIG_FILE}) or a zolo run folder`);
  }
  const config = readRunConfig(dir);
  if (config.task !== SPAM_TASK) {
    throw new ConfigError(`--model ${dir} is a run folder of task "${config.task}" with no ${CARD_FILE}; zolo predict reads runs of task ${SPAM_TASK} on a Hugging Face folder, and checkpoint directories`);
  }
  const options = parseSpamOptions(config.taskOptions);
  const recorded = { prompt: options.prompt ?? {}, seq: options.seq };
  // the export is self-contained, so the source folder need not be reachable from here
  if (isHfModelDir(join(dir, HF_EXPORT_DIR))) return { modelDir: join(dir, HF_EXPORT_DIR), ...recorded, runWeights: null };
  const modelDir = resolve(config.model);
  if (!isHfModelDir(modelDir)) {
    throw new ConfigError(
      `--model ${dir} is a run folder on model "${config.model}" with neither ${CARD_FILE} nor an ${HF_EXPORT_DIR}/ export; rebuilding it needs that model as a Hugging Face folder, and ${modelDir} is not one (a relative path is read from the current directory)`,
    );
  }
  const file = join(dir, FILES.model);
  if (!existsSync(file)) {
    throw new FormatError(`run folder ${dir} has neither an ${HF_EXPORT_DIR}/ export nor ${FILES.model} (did it finish, with saveWeights on?)`);
  }
  return { modelDir, ...recorded, runWeights: { file, config } };
}

/** The run's weights over its source model: adapters attached as the run attached them, then every parameter loaded. */
async function applyRunWeights(lm: DecoderLm, runWeights: NonNullable<HfSource['runWeights']>): Promise<void> {
  const { file, config } = runWeights;
  const adapters = adapterSpecOf(config.method, config.options);
  if (adapters) attachAdapters(lm, adapters, config.seed);
  const { tensors } = await readSafetensors(file);
  const values = new Map([...tensors].map(([name, entry]) => [name, entry.data]));
  assertFiniteWeights(values, file);
  const extra = [...values.keys()].filter((name) => !lm.params.has(name));
  if (extra.length > 0) throw new FormatError(`${file}: tensors ${extra.slice(0, 3).join(', ')} belong to no parameter of ${config.model} with the run's adapters`);
  lm.params.load(values);
}

export async function loadHfPredictor(dir: string, backendName: string, overrides: HfPromptOptions): Promise<Classifier> {
  const source = sourceOf(dir);
  const engine = new Engine(await createBackend(backendName), new MemoryLedger());
  try {
    const lm = await loadHfModel(source.modelDir, engine);
    if (source.runWeights) await applyRunWeights(lm, source.runWeights);
    const tokenizer = hfTaskTokenizer(await HfTokenizer.load(source.modelDir), lm.config.vocab);
    const prompt: Partial<PromptTemplate> = {
      ...source.prompt,
      ...(overrides.suffix !== undefined ? { suffix: overrides.suffix } : {}),
      ...(overrides.labelWords !== undefined ? { labelWords: overrides.labelWords } : {}),
    };
    const seq = overrides.seq ?? source.seq ?? lm.config.seq;
    if (seq > lm.config.seq) throw new ConfigError(`--seq must be at most the model's context of ${lm.config.seq} tokens, got ${seq}`);
    const taskFor = (texts: readonly string[]): EmailTask => new EmailTask(tokenizer, emailsOfTexts(texts), { seq, format: 'prompt', prompt });
    // an empty task checks the label words (one token each) before any e-mail is read
    let labelTokenIds: Int32Array;
    try {
      labelTokenIds = taskFor([]).labelTokenIds;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new ConfigError(`${error.message}; --label-words ham,spam chooses words that are one token of this model's tokenizer`);
    }
    const model = new PromptClassifier(lm, labelTokenIds);
    return {
      model,
      classNames: CLASS_NAMES,
      head: 'prompt',
      logitKind: 'label-word',
      taskFor,
      dispose: () => {
        lm.params.dispose();
        engine.backend.dispose();
      },
    };
  } catch (error) {
    engine.backend.dispose();
    throw error;
  }
}
