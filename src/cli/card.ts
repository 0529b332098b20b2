/**
 * `zolo card`: (re)computes the quality metrics of a checkpoint directory's card — what a reader needs
 * to judge a pretrained model before fine-tuning it — and prints them, or with `--write` updates
 * `card.json` in place (only `evaluation`'s metric keys change). `zolo pretrain` runs the same
 * computation at its end.
 *
 *   validationBitsPerByte            bits per UTF-8 byte of the validation e-mails (src/experiment/bitsPerByte.ts)
 *   zeroShotPromptAccuracy           the prompt head, untrained, on validation; …TestAccuracy on test
 *   linearProbeValidationAccuracy    logistic regression on the frozen mean-pooled hidden states, λ chosen
 *   linearProbeTestAccuracy          on validation (src/experiment/linearProbe.ts), scored on test
 *   majorityClassAccuracy            the class prior: share of the training majority class in validation; …TestAccuracy in test
 *   metrics                          backend, wall time and the number of e-mails of each split used
 *
 * Bits per byte and zero-shot need a causal LM with a prompt head; for a classifier-head checkpoint
 * they are null.
 */
import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import { readCard, writeCard, type CheckpointCard } from '../data/checkpointCard.ts';
import { type Email, loadSplit } from '../data/spam.ts';
import { EmailTask } from '../data/tasks.ts';
import { bitsPerByte } from '../experiment/bitsPerByte.ts';
import { featureRows, fitLinearProbe, scoreLinearProbe, type LabelledFeatures } from '../experiment/linearProbe.ts';
import { classPrior } from '../experiment/methods/majority.ts';
import { checkpointDir } from '../experiment/spamWorkload.ts';
import { assertPositiveInteger, ConfigError } from '../errors.ts';
import { defaultBackendName } from '../kernels/index.ts';
import { PromptClassifier } from '../nn/index.ts';
import { release } from '../nn/model.ts';
import { loadPredictor, promptAccuracy, type Predictor } from './predict.ts';

export interface CardMetricOptions {
  backend?: string;
  /** training e-mails the probe is fitted on (0 = the whole split) */
  trainSize?: number;
  /** validation and test e-mails scored (0 = the whole splits) */
  evalSize?: number;
  /** e-mails per forward pass */
  batch?: number;
}

export interface CardMetrics {
  validationBitsPerByte: number | null;
  bitsPerByteDetail: { nats: number; bytes: number; targets: number } | null;
  zeroShotPromptAccuracy: number | null;
  zeroShotPromptTestAccuracy: number | null;
  zeroShotPredictedSpamFraction: number | null;
  linearProbeValidationAccuracy: number;
  linearProbeTestAccuracy: number;
  linearProbeLambda: number;
  majorityClassAccuracy: number;
  majorityClassTestAccuracy: number;
  metrics: { backend: string; wallTimeSeconds: number; trainMessages: number; validationMessages: number; testMessages: number };
}

const first = <T>(items: readonly T[], n: number): T[] => (n === 0 ? [...items] : items.slice(0, n));

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** What the metrics are computed on: a loaded checkpoint (`zolo card`) or the model `zolo pretrain` just trained. */
export type CardSubject = Pick<Predictor, 'card' | 'tokenizer' | 'model'> & { backend: string };

async function labelledFeatures(subject: CardSubject, task: EmailTask, batch: number): Promise<LabelledFeatures> {
  const { model } = subject;
  const features = await featureRows(
    async (indices) => {
      const rows = model.pooledFeatures(task.batchOf(indices));
      try {
        return await rows.read();
      } finally {
        release(rows);
      }
    },
    task.size,
    model.config.dModel,
    batch,
  );
  return { features, labels: task.labels };
}

function shareOf(emails: readonly Email[], label: number): number {
  return emails.filter((email) => email.label === label).length / emails.length;
}

/** The card metrics of the checkpoint directory `dir`. */
export async function computeCardMetrics(dir: string, options: CardMetricOptions = {}): Promise<CardMetrics> {
  const backend = options.backend ?? defaultBackendName();
  const predictor = await loadPredictor(dir, backend);
  try {
    return await cardMetricsOf({ ...predictor, backend }, options);
  } finally {
    predictor.dispose();
  }
}

/** The card metrics of a model in memory (its weights, tokenizer and card). */
export async function cardMetricsOf(subject: CardSubject, options: Omit<CardMetricOptions, 'backend'> = {}): Promise<CardMetrics> {
  const started = performance.now();
  const trainSize = options.trainSize ?? 0;
  const evalSize = options.evalSize ?? 0;
  const batch = options.batch ?? 32;
  for (const [flag, value] of [['--train-size', trainSize], ['--eval-size', evalSize]] as const) {
    if (!(Number.isInteger(value) && value >= 0)) throw new ConfigError(`${flag} must be an integer ≥ 0 (0 = the whole split), got ${value}`);
  }
  assertPositiveInteger('--batch', batch);
  const { card, tokenizer, model, backend } = subject;
  const train = first(loadSplit('train'), trainSize);
  const validation = first(loadSplit('validation'), evalSize);
  const test = first(loadSplit('test'), evalSize);
  const format = card.head === 'prompt' ? 'prompt' : 'classifier';
  const taskOf = (emails: readonly Email[]): EmailTask => new EmailTask(tokenizer, emails, { seq: model.config.seq, format, prompt: card.prompt });
  const [trainTask, validationTask, testTask] = [taskOf(train), taskOf(validation), taskOf(test)];

  let bits = null;
  let zeroShot = null;
  let zeroShotTest = null;
  if (model instanceof PromptClassifier) {
    bits = await bitsPerByte(model.lm, tokenizer, validation.map((email) => email.text), batch);
    zeroShot = await promptAccuracy(model, validationTask, batch);
    zeroShotTest = await promptAccuracy(model, testTask, batch);
  }
  const probe = fitLinearProbe(await labelledFeatures(subject, trainTask, batch), await labelledFeatures(subject, validationTask, batch), model.config.dModel);
  const probeTest = scoreLinearProbe(probe, await labelledFeatures(subject, testTask, batch));
  const prior = classPrior(trainTask.labels, card.classNames.length);
  return {
    validationBitsPerByte: bits && round(bits.bitsPerByte, 4),
    bitsPerByteDetail: bits && { nats: round(bits.nats, 1), bytes: bits.bytes, targets: bits.targets },
    zeroShotPromptAccuracy: zeroShot && round(zeroShot.accuracy, 4),
    zeroShotPromptTestAccuracy: zeroShotTest && round(zeroShotTest.accuracy, 4),
    zeroShotPredictedSpamFraction: zeroShot && round(zeroShot.predictedSpamFraction, 4),
    linearProbeValidationAccuracy: round(probe.validation.accuracy, 4),
    linearProbeTestAccuracy: round(probeTest.accuracy, 4),
    linearProbeLambda: probe.lambda,
    majorityClassAccuracy: round(shareOf(validation, prior.majority), 4),
    majorityClassTestAccuracy: round(shareOf(test, prior.majority), 4),
    metrics: {
      backend,
      wallTimeSeconds: round((performance.now() - started) / 1000, 1),
      trainMessages: train.length,
      validationMessages: validation.length,
      testMessages: test.length,
    },
  };
}

/** The card with `metrics` merged into its evaluation (other keys kept). */
export type CardWithMetrics = CheckpointCard & { evaluation: CheckpointCard['evaluation'] & CardMetrics };

export function withCardMetrics(card: CheckpointCard, metrics: CardMetrics): CardWithMetrics {
  return { ...card, evaluation: { ...card.evaluation, ...metrics } };
}

const percent = (value: number | null): string => (value === null ? 'n/a' : `${(100 * value).toFixed(1)}%`);

export function formatCardMetrics(metrics: CardMetrics): string {
  const m = metrics.metrics;
  const rows: [string, string][] = [
    ['validation bits per byte', String(metrics.validationBitsPerByte ?? 'n/a')],
    ['class prior (majority)', `validation ${percent(metrics.majorityClassAccuracy)}, test ${percent(metrics.majorityClassTestAccuracy)}`],
    ['zero-shot prompt', `validation ${percent(metrics.zeroShotPromptAccuracy)}, test ${percent(metrics.zeroShotPromptTestAccuracy)}`],
    [`linear probe (λ ${metrics.linearProbeLambda})`, `validation ${percent(metrics.linearProbeValidationAccuracy)}, test ${percent(metrics.linearProbeTestAccuracy)}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length)) + 2;
  return [
    ...rows.map(([label, value]) => `${label.padEnd(width)}${value}`),
    `${m.trainMessages} train / ${m.validationMessages} validation / ${m.testMessages} test e-mails, backend ${m.backend}, ${m.wallTimeSeconds} s`,
  ].join('\n');
}

const integer = (flag: string) => (value: string): number => {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isInteger(parsed)) throw new ConfigError(`${flag} must be an integer, got ${JSON.stringify(value)}`);
  return parsed;
};

export function register(program: Command): void {
  program
    .command('card')
    .description(commandDescription('card'))
    .requiredOption('--model <dir>', 'checkpoint directory (card.json, model.safetensors, tokenizer.json), or tiny | small')
    .option('--write', 'update card.json in place (otherwise only print)', false)
    .option('--backend <name>', 'kernel backend (see `zolo backends`)')
    .option('--train-size <n>', 'training e-mails the linear probe is fitted on (0 = all)', integer('--train-size'), 0)
    .option('--eval-size <n>', 'validation and test e-mails scored (0 = all)', integer('--eval-size'), 0)
    .option('--batch <n>', 'e-mails per forward pass', integer('--batch'), 32)
    .action(async (flags: { model: string; write: boolean; backend?: string; trainSize: number; evalSize: number; batch: number }) => {
      const dir = checkpointDir(flags.model);
      const metrics = await computeCardMetrics(dir, { ...(flags.backend ? { backend: flags.backend } : {}), trainSize: flags.trainSize, evalSize: flags.evalSize, batch: flags.batch });
      console.log(formatCardMetrics(metrics));
      if (flags.write) {
        writeCard(dir, withCardMetrics(readCard(dir), metrics));
        console.log(`updated ${dir}/card.json`);
      } else {
        console.log('(printed only; pass --write to update card.json)');
      }
    });
}
