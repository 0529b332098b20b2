/**
 * `spam`: the SpamAssassin e-mail task (ham vs spam, src/data) on a pretrained transformer checkpoint.
 *
 * Model: a checkpoint directory with card.json, model.safetensors and the tokenizer (src/data
 * checkpointCard.ts). `tiny` and `small` name the built-in checkpoints/<name>/; anything else is a
 * path to such a directory, or to a Hugging Face model folder (config.json, safetensors weights,
 * tokenizer.json; GPT-2, OPT, LLaMA, Qwen2), which is always fine-tuned prompt-style. A card with head "prompt" (a causal LM) is fine-tuned prompt-style as
 * MeZO does — "<e-mail> … This message is" scored by the label words' logits (src/nn
 * promptClassifier.ts); head "classifier" uses the encoder's classification head.
 *
 * Data: the fixed train/validation/test split (docs/data.md). `taskOptions.shots` = k takes a
 * balanced k-per-class subset of train drawn with `taskOptions.dataSeed` (MeZO's k-shot protocol,
 * default data seed 0, independent of the run seed); null trains on the whole split. Validation and
 * test are always the full splits (or their first evalSize examples, balanced by the split's fixed
 * order); the runner evaluates test only at the validation-selected points. Every split's labels and
 * pooled hidden-state features are offered to the baselines (majority, linear probe).
 */
import { copyFileSync, existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CARD_FILE, readCard, writeCard, type CheckpointCard } from '../data/checkpointCard.ts';
import { EmailTask, type PromptBatch, type PromptTemplate, type TaskTokenizer } from '../data/emailTask.ts';
import { CLASS_NAMES, fewShot, loadSplit } from '../data/spam.ts';
import { Tokenizer } from '../data/tokenizer.ts';
import { ConfigError } from '../errors.ts';
import { loadCheckpoint, saveCheckpoint, type SavableModel } from '../nn/checkpoint.ts';
import { EncoderClassifier } from '../nn/encoderClassifier.ts';
import { canMergeAdapters } from '../nn/adapters/merge.ts';
import { HfTokenizer, isHfModelDir, loadHfModel, saveHfModel } from '../nn/hf/index.ts';
import type { TokenBatch } from '../nn/batch.ts';
import { type Model, release } from '../nn/model.ts';
import { PromptClassifier } from '../nn/promptClassifier.ts';
import { type ParamGradCallback, valueAndGrad } from '../nn/tape.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { issueToConfigError } from './config.ts';
import { registerWorkload, saveParams, type Batch, type DataSplit, type EvalResult, type EvalSplit, type Workload, type WorkloadRequest } from './workload.ts';

export const SPAM_TASK = 'spam';

/** Where `--model tiny|small` points: the checkpoints shipped with the repository. */
export const BUILTIN_CHECKPOINTS_DIR = fileURLToPath(new URL('../../checkpoints/', import.meta.url));

/** Evaluation batch: large enough to amortise the per-batch overhead, small enough for the ledger's activation peak to stay modest. */
export const EVAL_BATCH = 32;

const spamOptionsSchema = z.strictObject({
  shots: z.number().int().min(1).nullable().default(null).describe('an integer ≥ 1 (examples per class), or null for the whole train split'),
  dataSeed: z.number().int().min(0).default(0).describe('an integer ≥ 0'),
  seq: z.number().int().min(8).nullable().default(null).describe("an integer ≥ 8 (≤ the model's context), or null for the model's context"),
  prompt: z
    .strictObject({
      suffix: z.string().min(1).optional().describe('a non-empty string'),
      labelWords: z.tuple([z.string().min(1), z.string().min(1)]).optional().describe('two strings (ham, spam), each one token'),
    })
    .nullable()
    .default(null)
    .describe("an object with keys suffix, labelWords (overrides the card's prompt), or null"),
});
type SpamOptions = z.infer<typeof spamOptionsSchema>;

/** `taskOptions` of the spam task, checked, with defaults filled in (ConfigError naming the field). */
export function parseSpamOptions(taskOptions: Record<string, unknown>): SpamOptions {
  const parsed = spamOptionsSchema.safeParse(taskOptions, { reportInput: true });
  if (!parsed.success) throw issueToConfigError(spamOptionsSchema, parsed.error.issues[0]!, 'taskOptions');
  return parsed.data;
}

/*
 * Tokenizing the corpus is the slow part of building the workload (seconds); a suite builds it once
 * per run, so tokenizers and encoded tasks are cached for the process, keyed by everything they
 * depend on. Both are immutable after construction.
 */
const tokenizers = new Map<string, TaskTokenizer>();
const tasks = new Map<string, Record<DataSplit, EmailTask>>();

function tokenizerFor(path: string, load: () => TaskTokenizer): TaskTokenizer {
  let tokenizer = tokenizers.get(path);
  if (!tokenizer) tokenizers.set(path, (tokenizer = load()));
  return tokenizer;
}

function tasksFor(
  tokenizerKey: string,
  tokenizer: TaskTokenizer,
  prompt: Partial<PromptTemplate> | undefined,
  options: { shots: number | null; dataSeed: number; seq: number },
  format: 'prompt' | 'classifier',
): Record<DataSplit, EmailTask> {
  const key = JSON.stringify([tokenizerKey, prompt ?? null, format, options.seq, options.shots, options.dataSeed]);
  let cached = tasks.get(key);
  if (!cached) {
    const taskOptions = { seq: options.seq, format, ...(prompt ? { prompt } : {}) } as const;
    const trainEmails = loadSplit('train');
    cached = {
      train: new EmailTask(tokenizer, options.shots === null ? trainEmails : fewShot(trainEmails, options.shots, options.dataSeed), taskOptions),
      validation: new EmailTask(tokenizer, loadSplit('validation'), taskOptions),
      test: new EmailTask(tokenizer, loadSplit('test'), taskOptions),
    };
    tasks.set(key, cached);
  }
  return cached;
}

export function checkpointDir(model: string): string {
  const dir = model === 'tiny' || model === 'small' ? join(BUILTIN_CHECKPOINTS_DIR, model) : resolve(model);
  // a path to the weights file also names its directory
  const folder = existsSync(dir) && basename(dir).endsWith('.safetensors') ? dirname(dir) : dir;
  if (!existsSync(join(folder, CARD_FILE))) {
    const hint = model === 'tiny' || model === 'small' ? ` (the built-in ${model} checkpoint is missing; create it with \`zolo pretrain\`, see docs/data.md)` : '';
    throw new ConfigError(`model must be tiny, small, a checkpoint directory holding ${CARD_FILE} or a Hugging Face model folder holding config.json, got "${model}"${hint}`);
  }
  return folder;
}

/**
 * Correct predictions (argmax) and summed cross-entropy −log softmax(z)_y of a [rows, classes]
 * logits block, in float64 on the host (C is 2, so this costs nothing next to the forward pass).
 */
function scoreLogits(values: Float32Array, labels: Int32Array, classes: number): { correct: number; lossSum: number } {
  let correct = 0;
  let lossSum = 0;
  labels.forEach((label, row) => {
    let best = 0;
    for (let c = 1; c < classes; c++) if (values[row * classes + c]! > values[row * classes + best]!) best = c;
    if (best === label) correct++;
    const max = values[row * classes + best]!;
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(values[row * classes + c]! - max);
    lossSum += max + Math.log(sum) - values[row * classes + label]!;
  });
  return { correct, lossSum };
}

function sequenceLength(options: SpamOptions, context: number): number {
  const seq = options.seq ?? context;
  if (seq > context) throw new ConfigError(`taskOptions.seq must be at most the model's context of ${context} tokens, got ${seq}`);
  return seq;
}

/** A Hugging Face tokenizer as the e-mail task sees it: no special tokens added, BOS from tokenizer_config.json. */
export function hfTaskTokenizer(tokenizer: HfTokenizer, vocabSize: number): TaskTokenizer {
  const encode = (text: string): number[] => tokenizer.encode(text, { addSpecialTokens: false });
  return {
    vocabSize,
    encode,
    singleTokenId: (text) => {
      const ids = encode(text);
      return ids.length === 1 ? ids[0] : undefined;
    },
    bosId: tokenizer.specialTokenId('bos') ?? null,
    padId: tokenizer.specialTokenId('pad') ?? tokenizer.specialTokenId('eos') ?? 0,
  };
}

/**
 * A Hugging Face folder (config.json, safetensors, tokenizer.json): its causal LM fine-tuned
 * prompt-style. The final model is written as zolo parameters at `path` (what replay and resume
 * read) and as a Hugging Face folder `hf/` beside it, LoRA adapters merged into the weights (a run
 * with tensor-train adapters, which cannot be merged, writes no `hf/`).
 */
async function createHfSpamWorkload(request: WorkloadRequest, options: SpamOptions, dir: string): Promise<Workload> {
  const lm = await loadHfModel(dir, request.engine);
  const hfTokenizer = await HfTokenizer.load(dir);
  const tokenizer = tokenizerFor(join(dir, 'tokenizer.json'), () => hfTaskTokenizer(hfTokenizer, lm.config.vocab));
  const seq = sequenceLength(options, lm.config.seq);
  const splits = tasksFor(dir, tokenizer, options.prompt ?? undefined, { ...options, seq }, 'prompt');
  const model = new PromptClassifier(lm, splits.train.labelTokenIds);
  return assembleWorkload(request, model, splits, CLASS_NAMES.length, async (path) => {
    await saveParams(path, model.params, { 'zolo.task': SPAM_TASK, 'zolo.model': dir });
    if (basename(path) === HF_EXPORT_TRIGGER && canMergeAdapters(lm)) {
      await saveHfModel(lm, join(dirname(path), HF_EXPORT_DIR), { sourceDir: dir, overwrite: true });
    }
  });
}

/** The run's final model file; saving it also exports the Hugging Face folder. */
const HF_EXPORT_TRIGGER = 'model.safetensors';
/** Where a fine-tuned Hugging Face model is written, inside the run folder. */
export const HF_EXPORT_DIR = 'hf';

export async function createSpamWorkload(request: WorkloadRequest): Promise<Workload> {
  const options = parseSpamOptions(request.taskOptions);
  if (isHfModelDir(resolve(request.model))) return createHfSpamWorkload(request, options, resolve(request.model));
  const dir = checkpointDir(request.model);
  const card: CheckpointCard = readCard(dir);
  const tokenizerPath = join(dir, card.tokenizer);
  const tokenizer = tokenizerFor(tokenizerPath, () => Tokenizer.load(tokenizerPath));
  const loaded = await loadCheckpoint(join(dir, card.weights), request.engine);
  const seq = sequenceLength(options, loaded.model.config.seq);
  const format = card.head === 'prompt' ? 'prompt' : 'classifier';
  const prompt = options.prompt ?? card.prompt;
  const splits = tasksFor(tokenizerPath, tokenizer, prompt, { ...options, seq }, format);

  let model: PromptClassifier | EncoderClassifier;
  if (format === 'prompt') {
    if (loaded.model instanceof EncoderClassifier) throw new ConfigError(`${dir}: card head "prompt" needs a causal LM, the weights are an encoder classifier`);
    model = new PromptClassifier(loaded.model, splits.train.labelTokenIds);
  } else {
    if (!(loaded.model instanceof EncoderClassifier)) throw new ConfigError(`${dir}: card head "classifier" needs an encoder classifier, the weights are a causal LM`);
    model = loaded.model;
  }
  return assembleWorkload(request, model, splits, card.classNames.length, async (path: string) => {
    await saveCheckpoint(path, model as SavableModel);
    if (basename(path) !== card.weights) return;
    // a model file next to its card and tokenizer is what `zolo predict DIR` reads
    const out = dirname(path);
    copyFileSync(join(dir, card.tokenizer), join(out, card.tokenizer));
    writeCard(out, { ...card, weights: basename(path), training: { ...card.training, fineTunedFrom: dir }, evaluation: {} });
  });
}

/** A classifier that also gives the frozen pooled features the linear probe reads. */
type PoolingModel = Model<PromptBatch> & { pooledFeatures(batch: TokenBatch): Tensor };

/** The workload over a classifier and its train / validation / test tasks (both model sources share it). */
function assembleWorkload(
  request: WorkloadRequest, model: PoolingModel, splits: Record<DataSplit, EmailTask>, classes: number,
  saveModel: (path: string) => Promise<void>,
): Workload {
  const { train, validation, test } = splits;
  return {
    engine: request.engine,
    params: model.params,
    trainSize: train.size,
    validationSize: validation.size,
    testSize: test.size,
    loss: (batch: Batch) => model.loss(train.batchOf(batch)),
    async lossAndGradients(batch: Batch, onParamGrad?: ParamGradCallback) {
      const data = train.batchOf(batch);
      const { loss, grads } = await valueAndGrad(model.params, () => model.lossTensor(data), onParamGrad ? { onParamGrad } : {});
      return { loss, gradients: grads };
    },
    linears: () => model.linears(),
    async evaluate(size: number, split: EvalSplit): Promise<EvalResult> {
      const examples = split === 'test' ? test : validation;
      const count = size === 0 ? examples.size : Math.min(size, examples.size);
      let correct = 0;
      let lossSum = 0;
      for (let start = 0; start < count; start += EVAL_BATCH) {
        const indices = Array.from({ length: Math.min(EVAL_BATCH, count - start) }, (_, i) => start + i);
        const data = examples.batchOf(indices);
        const logits = model.forward(data);
        const scored = scoreLogits(await logits.read(), data.labels, classes);
        release(logits);
        correct += scored.correct;
        lossSum += scored.lossSum;
      }
      return { accuracy: correct / count, loss: lossSum / count };
    },
    saveModel,
    labels: (split: DataSplit) => splits[split].labels,
    featureDim: model.config.dModel,
    async pooledFeatures(split: DataSplit, indices: Batch) {
      const features = model.pooledFeatures(splits[split].batchOf(indices));
      try {
        return await features.read();
      } finally {
        release(features);
      }
    },
    dispose: () => model.params.dispose(),
  };
}

registerWorkload(SPAM_TASK, createSpamWorkload, spamOptionsSchema);
