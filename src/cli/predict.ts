/**
 * `zolo predict`: classifies e-mails (ham / spam) with a checkpoint directory (card.json +
 * model.safetensors + tokenizer JSON), a Hugging Face model folder or a run fine-tuned from one
 * (hfPredictor.ts). A checkpoint card's `head` picks the computation:
 *   prompt      the causal LM reads "[bos] <e-mail> <suffix>"; class logits are the next-token
 *               logits of the label words (raw label-word logits, as MeZO's prompt-based models)
 *   classifier  the encoder classifier's head logits
 * Probabilities are softmax(logits) over the classes. Input: JSON lines with {"text": …} (used as
 * given; the models were trained on cleaned text "Subject: <subject>\n<body>") or {"raw": …} (a raw
 * RFC 822 message, cleaned exactly like the corpus).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import { type CheckpointCard, CARD_FILE, readCard } from '../data/checkpointCard.ts';
import { cleanRawMessage } from '../data/spam.ts';
import { DEFAULT_LABEL_WORDS, DEFAULT_PROMPT_SUFFIX, EmailTask } from '../data/tasks.ts';
import { Tokenizer } from '../data/tokenizer.ts';
import { ConfigError, FormatError, assertPositiveInteger } from '../errors.ts';
import { createBackend, defaultBackendName } from '../kernels/index.ts';
import { EncoderClassifier, PromptClassifier, loadCheckpoint } from '../nn/index.ts';
import { attachAdapters, type AdapterSpec } from '../nn/adapters/index.ts';
import { Engine, MemoryLedger } from '../tensor/index.ts';
import { writeFileAtomic } from '../experiment/checkpoint.ts';
import { checkOutputFile } from './outputFile.ts';
import { assertFiniteWeights, type Classifier, type ClassLogitModel, emailsOfTexts } from './classifier.ts';
import { type HfPromptOptions, loadHfPredictor } from './hfPredictor.ts';

/** Class logits of every example of `task`, row-major [size, classes] (inference only). */
export async function classLogits(model: ClassLogitModel, task: EmailTask, batchSize: number): Promise<{ logits: Float32Array; classes: number }> {
  const rows: Float32Array[] = [];
  let classes = 0;
  for (const batch of task.evalBatches(batchSize)) {
    const out = model.forward(batch);
    classes = out.shape[out.shape.length - 1]!;
    rows.push(await out.read());
    (out.base ?? out).dispose();
  }
  const logits = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let offset = 0;
  for (const r of rows) {
    logits.set(r, offset);
    offset += r.length;
  }
  return { logits, classes };
}

/** Numerically stable softmax of one row. */
export function softmaxRow(logits: ArrayLike<number>): number[] {
  const values = Array.from(logits);
  const max = Math.max(...values);
  const exps = values.map((v) => Math.exp(v - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Accuracy of argmax class logits against the task's labels; also the share predicted spam (class 1). */
export async function promptAccuracy(model: ClassLogitModel, task: EmailTask, batchSize: number): Promise<{ accuracy: number; predictedSpamFraction: number }> {
  const { logits, classes } = await classLogits(model, task, batchSize);
  let correct = 0;
  let spam = 0;
  for (let i = 0; i < task.size; i++) {
    const predicted = argmax(logits.subarray(i * classes, (i + 1) * classes));
    if (predicted === task.labels[i]) correct++;
    if (predicted === 1) spam++;
  }
  return { accuracy: correct / task.size, predictedSpamFraction: spam / task.size };
}

/** A checkpoint directory's classifier, with its card and zolo tokenizer. */
export interface Predictor extends Classifier {
  card: CheckpointCard;
  tokenizer: Tokenizer;
  model: PromptClassifier | EncoderClassifier;
}

/** Loads a checkpoint directory (or the directory of a given .safetensors file) for classification. */
export async function loadPredictor(path: string, backendName: string = defaultBackendName()): Promise<Predictor> {
  const dir = path.endsWith('.safetensors') ? dirname(path) : path;
  const card = readCard(dir);
  const tokenizer = Tokenizer.load(join(dir, card.tokenizer));
  const engine = new Engine(await createBackend(backendName), new MemoryLedger());
  const loaded = await loadCheckpoint(join(dir, card.weights), engine);
  assertFiniteWeights(loaded.tensors, join(dir, card.weights));
  // Adapter weights (LoRA, tensor-train) would be ignored by the bare base model, giving silently
  // wrong predictions: re-attach the adapters the run's card describes, then load their values.
  const adapterTensors = [...loaded.tensors.keys()].filter((name) => !loaded.model.params.has(name));
  if (adapterTensors.length > 0) {
    const spec = (card as CheckpointCard & { fineTuning?: { adapters?: AdapterSpec | null } }).fineTuning?.adapters;
    if (!spec) {
      throw new FormatError(
        `${join(dir, card.weights)} holds ${adapterTensors.length} adapter tensors (${adapterTensors.slice(0, 3).join(', ')}${adapterTensors.length > 3 ? ', …' : ''}) ` +
          `but ${join(dir, CARD_FILE)} has no "fineTuning.adapters" saying how to attach them (a card written by zolo run records it)`,
      );
    }
    attachAdapters(loaded.model, spec);
    const extra = [...loaded.tensors.keys()].filter((name) => !loaded.model.params.has(name));
    if (extra.length > 0) throw new FormatError(`${join(dir, card.weights)}: tensors ${extra.slice(0, 3).join(', ')} belong to no parameter of the model with the card's adapters`);
    loaded.model.params.load(loaded.tensors);
  }
  const config = loaded.model.config;
  if (tokenizer.vocabSize > config.vocab) {
    throw new ConfigError(`tokenizer ${card.tokenizer} has ${tokenizer.vocabSize} tokens, more than the checkpoint's vocabulary of ${config.vocab}`);
  }
  const seq = config.seq;
  let model: PromptClassifier | EncoderClassifier;
  let task: (examples: readonly string[]) => EmailTask;
  if (card.head === 'prompt') {
    if (loaded.model instanceof EncoderClassifier) throw new FormatError(`${join(dir, CARD_FILE)}: head "prompt" needs a causal-lm checkpoint, got ${loaded.model.kind}`);
    const probe = new EmailTask(tokenizer, [], { seq, format: 'prompt', prompt: card.prompt });
    const ids = loaded.prompt ? loaded.prompt.labelTokenIds : probe.labelTokenIds;
    if (ids.join() !== probe.labelTokenIds.join()) {
      throw new FormatError(`${dir}: the checkpoint's label token ids [${ids.join(', ')}] differ from the card's label words (ids [${probe.labelTokenIds.join(', ')}])`);
    }
    model = new PromptClassifier(loaded.model, ids);
    task = (texts) => taskOfTexts(tokenizer, texts, seq, 'prompt', card);
  } else {
    if (!(loaded.model instanceof EncoderClassifier)) throw new FormatError(`${join(dir, CARD_FILE)}: head "classifier" needs an encoder-classifier checkpoint, got ${loaded.model.kind}`);
    model = loaded.model;
    task = (texts) => taskOfTexts(tokenizer, texts, seq, 'classifier', card);
  }
  return {
    card,
    tokenizer,
    model,
    classNames: card.classNames,
    head: card.head,
    taskFor: task,
    logitKind: card.head === 'prompt' ? 'label-word' : 'class',
    dispose: () => {
      loaded.model.params.dispose();
      engine.backend.dispose();
    },
  };
}

function taskOfTexts(tokenizer: Tokenizer, texts: readonly string[], seq: number, format: 'prompt' | 'classifier', card: CheckpointCard): EmailTask {
  return new EmailTask(tokenizer, emailsOfTexts(texts), { seq, format, prompt: card.prompt });
}

/**
 * The classifier `--model` names: a checkpoint directory (card.json), a Hugging Face model folder,
 * or a run folder fine-tuned from one. `prompt` (suffix, label words, sequence length) applies to
 * Hugging Face models only; a checkpoint's card fixes its own.
 */
export async function loadClassifier(path: string, backendName: string = defaultBackendName(), prompt: HfPromptOptions = {}): Promise<Classifier> {
  const dir = path.endsWith('.safetensors') ? dirname(path) : path;
  if (!existsSync(join(dir, CARD_FILE))) return loadHfPredictor(dir, backendName, prompt);
  const given = Object.entries(prompt).filter(([, value]) => value !== undefined).map(([key]) => key);
  if (given.length > 0) {
    throw new ConfigError(`--prompt-suffix, --label-words and --seq are for Hugging Face models; ${join(dir, CARD_FILE)} sets the prompt of this checkpoint (got ${given.join(', ')})`);
  }
  return loadPredictor(dir, backendName);
}

/** Texts of a JSONL file: each line {"text": …} or {"raw": …}; blank lines skipped. Errors name the line. */
export function readInputLines(file: string): string[] {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`--input ${file} cannot be read: ${(error as Error).message}`);
  }
  const texts: string[] = [];
  content.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let record: { text?: unknown; raw?: unknown };
    try {
      record = JSON.parse(line) as typeof record;
    } catch (error) {
      throw new FormatError(`${file}:${i + 1}: not valid JSON (${(error as Error).message})`);
    }
    if (typeof record?.text === 'string') texts.push(record.text);
    else if (typeof record?.raw === 'string') texts.push(cleanRawMessage(record.raw).text);
    else throw new FormatError(`${file}:${i + 1}: each line must be an object with a string "text" (or "raw") field`);
  });
  if (texts.length === 0) throw new ConfigError(`--input ${file} holds no {"text": …} lines`);
  return texts;
}

export interface Prediction {
  line: number;
  label: string;
  probabilities: Record<string, number>;
  logits: number[];
  logitKind: 'label-word' | 'class';
}

export async function predictTexts(predictor: Classifier, texts: readonly string[], batchSize = 32): Promise<Prediction[]> {
  assertPositiveInteger('--batch', batchSize);
  const { logits, classes } = await classLogits(predictor.model, predictor.taskFor(texts), batchSize);
  const firstBad = logits.findIndex((value) => !Number.isFinite(value));
  if (firstBad >= 0) {
    throw new FormatError(`the model produced a non-finite logit (${logits[firstBad]}) for input line ${Math.floor(firstBad / classes) + 1}; refusing to print predictions from it`);
  }
  const names = predictor.classNames;
  return texts.map((_, i) => {
    const row = Array.from(logits.subarray(i * classes, (i + 1) * classes));
    const probabilities = softmaxRow(row);
    return {
      line: i + 1,
      label: names[argmax(row)] ?? String(argmax(row)),
      probabilities: Object.fromEntries(probabilities.map((p, c) => [names[c] ?? String(c), p])),
      logits: row,
      logitKind: predictor.logitKind,
    };
  });
}

function parseLabelWords(value: string): [string, string] {
  const words = value.split(',');
  if (words.length !== 2 || words.some((word) => word.length === 0)) {
    throw new ConfigError(`--label-words must be two non-empty words separated by a comma (ham,spam), got ${JSON.stringify(value)}`);
  }
  return [words[0]!, words[1]!];
}

function parseSeq(value: string): number {
  const seq = Number(value);
  if (!Number.isInteger(seq) || seq < 8) throw new ConfigError(`--seq must be an integer ≥ 8, got ${JSON.stringify(value)}`);
  return seq;
}

export function register(program: Command): void {
  program
    .command('predict')
    .description(commandDescription('predict'))
    .requiredOption('--model <dir>', 'checkpoint directory (card.json, model.safetensors, tokenizer.json), e.g. checkpoints/tiny; a Hugging Face model folder; or a run folder fine-tuned from one')
    .requiredOption('--input <file.jsonl>', 'JSON lines, each {"text": "…"} (or {"raw": "<RFC 822 message>"})')
    .option('--out <file.jsonl>', 'write one JSON line per input here instead of printing (never the input; an existing file only with --force)')
    .option('--force', 'overwrite an existing --out file')
    .option('--json', 'print JSON lines to stdout (machine-readable)')
    .option('--backend <name>', 'kernel backend (see `zolo backends`)')
    .option('--batch <n>', 'e-mails per forward pass', (v) => Number(v), 32)
    .option('--prompt-suffix <text>', `Hugging Face models: the template after the e-mail (default: the run's, else ${JSON.stringify(DEFAULT_PROMPT_SUFFIX)})`)
    .option('--label-words <ham,spam>', `Hugging Face models: one single-token word per class, comma-separated (default: the run's, else ${JSON.stringify(DEFAULT_LABEL_WORDS.join(','))})`, parseLabelWords)
    .option('--seq <n>', "Hugging Face models: tokens per e-mail with the template (default: the run's taskOptions.seq, else the model's context)", parseSeq)
    .action(async (flags: {
      model: string; input: string; out?: string; force?: boolean; json?: boolean; backend?: string; batch: number;
      promptSuffix?: string; labelWords?: [string, string]; seq?: number;
    }) => {
      if (flags.out !== undefined) checkOutputFile('--out', flags.out, [flags.input], flags.force ?? false);
      const texts = readInputLines(flags.input);
      const predictor = await loadClassifier(flags.model, flags.backend, { suffix: flags.promptSuffix, labelWords: flags.labelWords, seq: flags.seq });
      try {
        const predictions = await predictTexts(predictor, texts, flags.batch);
        const lines = predictions.map((p) => JSON.stringify(p));
        if (flags.out) {
          writeFileAtomic(flags.out, `${lines.join('\n')}\n`);
          console.log(`wrote ${predictions.length} predictions to ${flags.out} (${predictor.head} head)`);
        } else if (flags.json) {
          console.log(lines.join('\n'));
        } else {
          for (const p of predictions) {
            const probs = Object.entries(p.probabilities).map(([name, value]) => `${name} ${value.toFixed(3)}`).join('  ');
            console.log(`${String(p.line).padStart(4)}  ${p.label.padEnd(5)}  ${probs}  ${p.logitKind} logits [${p.logits.map((l) => l.toFixed(3)).join(', ')}]`);
          }
        }
      } finally {
        predictor.dispose();
      }
    });
}
