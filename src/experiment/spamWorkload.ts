/**
 * `spam`: the SpamAssassin e-mail task (ham vs spam, src/data) on a pretrained transformer checkpoint.
 *
 * Model: a checkpoint directory with card.json, model.safetensors and the tokenizer (src/data
 * checkpointCard.ts). `tiny` and `small` name the built-in checkpoints/<name>/; anything else is a
 * path to such a directory. A card with head "prompt" (a causal LM) is fine-tuned prompt-style as
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
import { EmailTask } from '../data/emailTask.ts';
import { fewShot, loadSplit } from '../data/spam.ts';
import { Tokenizer } from '../data/tokenizer.ts';
import { ConfigError } from '../kernels/errors.ts';
import { loadCheckpoint, saveCheckpoint, type SavableModel } from '../nn/checkpoint.ts';
import { EncoderClassifier } from '../nn/encoderClassifier.ts';
import { release } from '../nn/model.ts';
import { PromptClassifier } from '../nn/promptClassifier.ts';
import { type ParamGradCallback, valueAndGrad } from '../nn/tape.ts';
import { issueToConfigError } from './config.ts';
import { registerWorkload, type Batch, type DataSplit, type EvalResult, type EvalSplit, type Workload, type WorkloadRequest } from './workload.ts';

export const SPAM_TASK = 'spam';

/** Where `--model tiny|small` points: the checkpoints shipped with the repository. */
export const BUILTIN_CHECKPOINTS_DIR = fileURLToPath(new URL('../../checkpoints/', import.meta.url));

/** Evaluation batch: large enough to amortise the per-batch overhead, small enough for the ledger's activation peak to stay modest. */
export const EVAL_BATCH = 32;

const spamOptionsSchema = z.strictObject({
  shots: z.number().int().min(1).nullable().default(null).describe('an integer ≥ 1 (examples per class), or null for the whole train split'),
  dataSeed: z.number().int().min(0).default(0).describe('an integer ≥ 0'),
  seq: z.number().int().min(8).nullable().default(null).describe("an integer ≥ 8 (≤ the model's context), or null for the model's context"),
});

/*
 * Tokenizing the corpus is the slow part of building the workload (seconds); a suite builds it once
 * per run, so tokenizers and encoded tasks are cached for the process, keyed by everything they
 * depend on. Both are immutable after construction.
 */
const tokenizers = new Map<string, Tokenizer>();
const tasks = new Map<string, Record<DataSplit, EmailTask>>();

function tokenizerFor(path: string): Tokenizer {
  let tokenizer = tokenizers.get(path);
  if (!tokenizer) tokenizers.set(path, (tokenizer = Tokenizer.load(path)));
  return tokenizer;
}

function tasksFor(
  dir: string,
  card: CheckpointCard,
  tokenizer: Tokenizer,
  options: { shots: number | null; dataSeed: number; seq: number },
  format: 'prompt' | 'classifier',
): Record<DataSplit, EmailTask> {
  const key = JSON.stringify([dir, card.tokenizer, card.prompt ?? null, format, options.seq, options.shots, options.dataSeed]);
  let cached = tasks.get(key);
  if (!cached) {
    const taskOptions = { seq: options.seq, format, ...(card.prompt ? { prompt: card.prompt } : {}) } as const;
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
    throw new ConfigError(`model must be tiny, small or a checkpoint directory holding ${CARD_FILE}, got "${model}"${hint}`);
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

export async function createSpamWorkload(request: WorkloadRequest): Promise<Workload> {
  const parsed = spamOptionsSchema.safeParse(request.taskOptions, { reportInput: true });
  if (!parsed.success) throw issueToConfigError(spamOptionsSchema, parsed.error.issues[0]!, 'taskOptions');
  const options = parsed.data;
  const dir = checkpointDir(request.model);
  const card: CheckpointCard = readCard(dir);
  const tokenizer = tokenizerFor(join(dir, card.tokenizer));
  const loaded = await loadCheckpoint(join(dir, card.weights), request.engine);
  const context = loaded.model.config.seq;
  const seq = options.seq ?? context;
  if (seq > context) throw new ConfigError(`taskOptions.seq must be at most the model's context of ${context} tokens, got ${seq}`);
  const format = card.head === 'prompt' ? 'prompt' : 'classifier';
  const splits = tasksFor(dir, card, tokenizer, { ...options, seq }, format);
  const { train, validation, test } = splits;

  let model: PromptClassifier | EncoderClassifier;
  if (format === 'prompt') {
    if (loaded.model instanceof EncoderClassifier) throw new ConfigError(`${dir}: card head "prompt" needs a causal LM, the weights are an encoder classifier`);
    model = new PromptClassifier(loaded.model, train.labelTokenIds);
  } else {
    if (!(loaded.model instanceof EncoderClassifier)) throw new ConfigError(`${dir}: card head "classifier" needs an encoder classifier, the weights are a causal LM`);
    model = loaded.model;
  }
  const classes = card.classNames.length;

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
    async saveModel(path: string) {
      await saveCheckpoint(path, model as SavableModel);
      if (basename(path) !== card.weights) return;
      // a model file next to its card and tokenizer is what `zolo predict DIR` reads
      const out = dirname(path);
      copyFileSync(join(dir, card.tokenizer), join(out, card.tokenizer));
      writeCard(out, { ...card, weights: basename(path), training: { ...card.training, fineTunedFrom: dir }, evaluation: {} });
    },
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
