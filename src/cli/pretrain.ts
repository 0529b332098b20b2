/**
 * `zolo pretrain`: trains the causal LM of a preset (zolo's tiny / small transformer, or the
 * llama-tiny / llama-20m LLaMA shapes of src/nn/architectures/presets.ts) from a random init on the
 * SpamAssassin training split's text with the framework's own backprop path (tape + AdamW or the
 * GaLore family), then writes a checkpoint directory:
 *   model.safetensors  (src/nn/checkpoint.ts)    tokenizer.json  (src/data/tokenizer.ts)
 *   card.json          (src/data/checkpointCard.ts: config, seed, steps, validation loss/perplexity,
 *                       unigram baseline, peak memory, wall time, backend, and the card metrics of
 *                       card.ts: bits per byte, class prior, zero-shot and linear-probe accuracy)
 *
 * Schedule: linear warm-up over `warmup` steps to `lr`, then cosine decay to `lr·minLrRatio`
 * (nanoGPT's get_lr). Gradients are clipped to global norm `gradClip` (nanoGPT: 1.0), except under
 * a fused-backward optimizer (AdaLomo), which updates each parameter inside the backward pass and
 * never holds every gradient at once: its grouped update normalization takes the place of clipping.
 * Validation: mean next-token cross-entropy over the validation split's packed windows
 * (perplexity = exp(loss)), next to the add-one unigram baseline on the same targets.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import { addPluginOption } from './pluginOption.ts';
import { type CheckpointCard, CARD_FORMAT, TOKENIZER_FILE, WEIGHTS_FILE, writeCard } from '../data/checkpointCard.ts';
import { CLASS_NAMES, loadSplit } from '../data/spam.ts';
import { DEFAULT_LABEL_WORDS, DEFAULT_PROMPT_SUFFIX, EmailTask, LmTask, unigramPerplexity } from '../data/tasks.ts';
import { type Tokenizer, trainTokenizer } from '../data/tokenizer.ts';
import { loadPlugins } from '../experiment/plugins.ts';
import '../galore/builtins.ts';
import type { GaLoreSettings } from '../galore/galore.ts';
import { perLayerUpdates } from '../galore/layerwise.ts';
import type { ReLoraSettings } from '../galore/lora.ts';
import type { ParamOptimizer } from '../galore/optimizer.ts';
import { backpropOptimizer, backpropOptimizerNames, createOptimizer, isBackpropOptimizer } from '../galore/registry.ts';
import type { AdaptableModel } from '../nn/adapters/attach.ts';
import type { LanguageModelBatch } from '../nn/batch.ts';
import type { LoraOptions } from '../nn/adapters/lora.ts';
import { ConfigError, DivergenceError, assertFinite, assertPositiveInteger } from '../errors.ts';
import { createBackend, defaultBackendName } from '../kernels/index.ts';
import { type LanguageModel, LANGUAGE_MODEL_PRESET_NAMES, PRESET_MAX_VOCAB, PromptClassifier, createLanguageModel, disposeGrads, languageModelConfig, saveCheckpoint, valueAndGrad } from '../nn/index.ts';
import type { Param } from '../tensor/params.ts';
import { Engine, MemoryLedger, type Tensor, ops } from '../tensor/index.ts';
import { type CardWithMetrics, cardMetricsOf, formatCardMetrics, withCardMetrics } from './card.ts';

/** What pretraining hands an optimizer: lr and λ, and GaLore rank/T/α, LoRA rank, ReLoRA restarts when given. */
export interface PretrainingHyper {
  lr: number;
  weightDecay: number;
  galore?: GaLoreSettings;
  lora?: Partial<LoraOptions>;
  relora?: Partial<ReLoraSettings>;
}

/** Every optimizer `--optimizer` accepts: the backprop optimizers registered now. */
export function pretrainOptimizerNames(): string[] {
  return backpropOptimizerNames();
}

function assertPretrainOptimizer(name: string): void {
  if (!isBackpropOptimizer(name)) throw new ConfigError(`--optimizer must be one of ${pretrainOptimizerNames().join(', ')}, got ${JSON.stringify(name)}`);
}

/**
 * Pretraining's optimizer settings where they differ from `zolo run`'s (registry defaults):
 * decoupled decay on matrices only for every optimizer (nanoGPT's configure_optimizers); the AdamW
 * baseline with torch's and nanoGPT's ε = 1e-8 (the GaLore variants keep the GaLore repository's
 * 1e-6, galore.md §2.4); GaLore rank r = d/4 of the smallest attention/MLP matrix side unless given
 * (the paper's pretraining ratios: 60M 128/512, 7B 1024/4096; the HF default 128 would be full rank
 * for tiny's d = 128), T = 200, α = 0.25 (galore.md §2.8).
 */
export const PRETRAIN_OPTIMIZER_SETTINGS = { decayMatricesOnly: true, adamwEps: 1e-8 } as const;

export function createPretrainOptimizer(name: string, model: AdaptableModel, hyper: PretrainingHyper): ParamOptimizer {
  assertPretrainOptimizer(name);
  const params = model.params.trainable();
  const matrices = params.filter((p) => p.tensor.shape.length === 2 && (p.group === 'attention' || p.group === 'mlp'));
  const side = Math.min(...matrices.map((p) => Math.min(p.tensor.shape[0]!, p.tensor.shape[1]!)));
  const rank = Number.isFinite(side) ? Math.max(1, Math.floor(side / 4)) : undefined;
  return createOptimizer(name, params, {
    lr: hyper.lr, weightDecay: hyper.weightDecay, decayMatricesOnly: PRETRAIN_OPTIMIZER_SETTINGS.decayMatricesOnly,
    ...(name === 'adamw' ? { eps: PRETRAIN_OPTIMIZER_SETTINGS.adamwEps } : {}),
    galore: { rank, ...hyper.galore }, model, ...(hyper.lora ? { lora: hyper.lora } : {}), ...(hyper.relora ? { relora: hyper.relora } : {}),
  });
}

export interface PretrainOptions {
  model: string;
  steps: number;
  batch: number;
  lr: number;
  seed: number;
  out: string;
  optimizer: string;
  backend?: string;
  force: boolean;
  /** tokenizer vocabulary; at most the preset's (4096) */
  vocab?: number;
  warmup: number;
  minLrRatio: number;
  weightDecay: number;
  gradClip: number;
  /** steps between validation passes on the first `evalWindows` windows (0: only at the end) */
  evalEvery: number;
  evalWindows: number;
  /** use only the first n validation (and, for the card metrics, test) messages (tests); default all 605 */
  validationMessages?: number;
  /** fit the card's linear probe on the first n training messages (tests); default all */
  probeTrainMessages?: number;
  /** the exact command line, recorded in the card */
  command?: string;
  /** GaLore rank/T/α, LoRA rank, ReLoRA restart interval for the matching --optimizer */
  optimizerOptions?: Pick<PretrainingHyper, 'galore' | 'lora' | 'relora'>;
}

/**
 * Defaults chosen so that `tiny` trains in ≤ ~15 min on 2 cores with the wasm backend
 * (docs/pretraining.md). lr 2e-3 with 5 % warm-up and cosine decay to 10 %: nanoGPT's
 * small-model recipe (shakespeare-char: lr 1e-3, min_lr = lr/10, grad_clip 1.0, wd 0.1) with a
 * larger lr for the short budget; weight decay 0.1 as in nanoGPT.
 */
export const PRETRAIN_DEFAULTS = {
  steps: 700,
  batch: 16,
  lr: 2e-3,
  seed: 0,
  optimizer: 'adamw',
  warmupFraction: 0.05,
  minLrRatio: 0.1,
  weightDecay: 0.1,
  gradClip: 1.0,
  evalEvery: 100,
  evalWindows: 256,
} as const;

/** lr at `step` (0-based): linear warm-up, then cosine to minLrRatio·lr. */
export function learningRateAt(step: number, options: Pick<PretrainOptions, 'lr' | 'steps' | 'warmup' | 'minLrRatio'>): number {
  const { lr, steps, warmup, minLrRatio } = options;
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const progress = steps > warmup ? (step - warmup) / (steps - warmup) : 1;
  const cosine = 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress)));
  return lr * (minLrRatio + (1 - minLrRatio) * cosine);
}

/** Mean next-token cross-entropy over the first `maxWindows` windows, weighted by counted targets. */
export async function evaluateLm(model: LanguageModel, task: LmTask, batchSize: number, maxWindows = Infinity): Promise<{ loss: number; tokens: number }> {
  let total = 0;
  let tokens = 0;
  for (const batch of task.evalBatches(batchSize, maxWindows)) {
    const counted = batch.targets.reduce((n, t) => n + (t >= 0 ? 1 : 0), 0);
    if (counted === 0) continue;
    total += (await model.loss(batch)) * counted;
    tokens += counted;
  }
  return { loss: total / tokens, tokens };
}

/*
 * Training the tokenizer on the training split takes seconds and depends only on the vocabulary
 * size (training is deterministic), so runs in one process (a benchmark, the tests) share it.
 */
const tokenizers = new Map<number, Tokenizer>();
function trainedTokenizer(vocab: number, texts: () => string[]): Tokenizer {
  let tokenizer = tokenizers.get(vocab);
  if (!tokenizer) tokenizers.set(vocab, (tokenizer = trainTokenizer(texts(), { vocabSize: vocab })));
  return tokenizer;
}

/** One normal step: all gradients, clipped to global norm `clip` (0: off), then the optimizer; a non-finite loss takes no step. */
async function clippedStep(model: LanguageModel, optimizer: ParamOptimizer, batch: LanguageModelBatch, clip: number): Promise<number> {
  const { loss, grads } = await valueAndGrad(model.params, () => model.lossTensor(batch));
  try {
    if (Number.isFinite(loss)) {
      await clipGradients(grads, clip);
      await optimizer.step(grads);
    }
  } finally {
    disposeGrads(grads);
  }
  return loss;
}

/** Scales every gradient by min(1, clip/‖g‖) (global L2 norm); returns ‖g‖ before clipping. */
async function clipGradients(grads: ReadonlyMap<Param, Tensor>, clip: number): Promise<number> {
  let squares = 0;
  for (const grad of grads.values()) squares += await ops.sumSquares(grad);
  const norm = Math.sqrt(squares);
  if (clip > 0 && norm > clip) for (const grad of grads.values()) ops.axpbyInPlace(0, grad, clip / norm, grad);
  return norm;
}

export interface ProgressReporter {
  start(total: number): void;
  update(step: number, fields: { loss: number; lr: number }): void;
  log(line: string): void;
  stop(): void;
}

/** cli-progress on a TTY, plain lines (every ~5 % of the run) otherwise. */
export function consoleProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (stream.isTTY) {
    const bar = new SingleBar({ format: 'pretrain [{bar}] {value}/{total} | loss {loss} | lr {lr} | eta {eta_formatted}', stream, hideCursor: true });
    return {
      start: (total) => bar.start(total, 0, { loss: '-', lr: '-' }),
      update: (step, f) => bar.update(step, { loss: f.loss.toFixed(3), lr: f.lr.toExponential(2) }),
      log: (line) => {
        stream.clearLine(0);
        stream.cursorTo(0);
        stream.write(`${line}\n`);
      },
      stop: () => bar.stop(),
    };
  }
  let total = 1;
  let started = 0;
  return {
    start: (n) => {
      total = n;
      started = performance.now();
    },
    update: (step, f) => {
      const every = Math.max(1, Math.round(total / 20));
      if (step % every === 0 || step === total) {
        const elapsed = (performance.now() - started) / 1000;
        stream.write(`step ${step}/${total} loss ${f.loss.toFixed(4)} lr ${f.lr.toExponential(2)} elapsed ${elapsed.toFixed(0)}s\n`);
      }
    },
    log: (line) => stream.write(`${line}\n`),
    stop: () => {},
  };
}

/** With --force the old files stay until the new ones replace them at the end, so a failed run loses nothing. */
function prepareOutputDir(out: string, force: boolean): void {
  if (existsSync(out) && readdirSync(out).length > 0 && !force) {
    throw new ConfigError(`--out ${out} already exists and is not empty; pass --force to overwrite it`);
  }
  mkdirSync(out, { recursive: true });
}

export async function pretrain(options: PretrainOptions, progress: ProgressReporter = consoleProgress()): Promise<CardWithMetrics> {
  const started = performance.now();
  const loadAtStart = loadavg()[0]!;
  const preset = languageModelConfig(options.model); // unknown preset → ConfigError listing the presets
  const vocab = options.vocab ?? preset.vocab;
  if (!Number.isInteger(vocab) || vocab < 261 || vocab > PRESET_MAX_VOCAB) {
    throw new ConfigError(`--vocab must be an integer in [261, ${PRESET_MAX_VOCAB}] for preset ${options.model}, got ${vocab}`);
  }
  assertPositiveInteger('--steps', options.steps);
  assertPositiveInteger('--batch', options.batch);
  assertFinite('--lr', options.lr);
  if (!(options.lr > 0)) throw new ConfigError(`--lr must be positive, got ${options.lr}`);
  assertPretrainOptimizer(options.optimizer);
  prepareOutputDir(options.out, options.force);

  const backendName = options.backend ?? defaultBackendName();
  const ledger = new MemoryLedger();
  const engine = new Engine(await createBackend(backendName), ledger);

  const train = loadSplit('train');
  const validation = loadSplit('validation').slice(0, options.validationMessages ?? Infinity);
  let t0 = performance.now();
  const tokenizer = trainedTokenizer(vocab, () => train.map((e) => e.text));
  const tokenizerSeconds = (performance.now() - t0) / 1000;
  const config = languageModelConfig(options.model, { vocab: tokenizer.vocabSize });
  const trainLm = LmTask.fromTexts(tokenizer, train.map((e) => e.text), config.seq);
  const validationLm = LmTask.fromTexts(tokenizer, validation.map((e) => e.text), config.seq);
  progress.log(
    `pretrain ${options.model}: tokenizer vocab ${tokenizer.vocabSize} (${tokenizerSeconds.toFixed(1)} s), ` +
      `${trainLm.stream.length} train tokens (${trainLm.windowCount} windows of ${config.seq}), backend ${backendName} (${engine.backend.mode})`,
  );

  const model = createLanguageModel(engine, config, options.seed);
  const optimizer = createPretrainOptimizer(options.optimizer, model, { lr: options.lr, weightDecay: options.weightDecay, ...options.optimizerOptions });
  const fusedBackward = backpropOptimizer(options.optimizer).rule.fusedBackward === true;
  const sampler = trainLm.sampler(options.batch, options.seed);
  const evalBatch = 32;
  const history: { step: number; trainLoss: number; validationLoss?: number }[] = [];
  let trainPeak = 0;
  let trainPeakByCategory: Record<string, number> = {};
  let runningLoss = NaN;

  progress.start(options.steps);
  t0 = performance.now();
  for (let step = 0; step < options.steps; step++) {
    optimizer.lr = learningRateAt(step, options);
    const batch = sampler.batchAt(step);
    ledger.resetPeaks();
    const loss = fusedBackward
      ? (await valueAndGrad(model.params, () => model.lossTensor(batch), { onParamGrad: perLayerUpdates(optimizer) })).loss
      : await clippedStep(model, optimizer, batch, options.gradClip);
    if (!Number.isFinite(loss)) throw new DivergenceError(`pretraining diverged: loss ${loss} at step ${step} (try a smaller --lr than ${options.lr})`, step);
    if (ledger.peakBytes() > trainPeak) {
      trainPeak = ledger.peakBytes();
      trainPeakByCategory = { ...ledger.snapshot().peak };
    }
    runningLoss = Number.isNaN(runningLoss) ? loss : 0.95 * runningLoss + 0.05 * loss;
    const record: (typeof history)[number] = { step: step + 1, trainLoss: loss };
    if (options.evalEvery > 0 && (step + 1) % options.evalEvery === 0 && step + 1 < options.steps) {
      const { loss: validationLoss } = await evaluateLm(model, validationLm, evalBatch, options.evalWindows);
      record.validationLoss = validationLoss;
      progress.log(`step ${step + 1}: train loss (EMA) ${runningLoss.toFixed(4)}, validation loss ${validationLoss.toFixed(4)} (first ${options.evalWindows} windows)`);
    }
    history.push(record);
    progress.update(step + 1, { loss: runningLoss, lr: optimizer.lr });
  }
  progress.stop();
  const trainSeconds = (performance.now() - t0) / 1000;

  // inference peak on a batch of the training size, for the same-shape comparison with a backprop step
  ledger.resetPeaks();
  await model.loss(sampler.batchAt(0));
  const inferencePeak = ledger.snapshot().peak;
  t0 = performance.now();
  const finalEval = await evaluateLm(model, validationLm, evalBatch);
  const unigram = unigramPerplexity(trainLm.stream, validationLm, tokenizer.vocabSize);
  const evalSeconds = (performance.now() - t0) / 1000;

  tokenizer.save(join(options.out, TOKENIZER_FILE));
  await saveCheckpoint(join(options.out, WEIGHTS_FILE), model, { 'zolo.tokenizer': TOKENIZER_FILE, 'zolo.preset': options.model });
  const card: CheckpointCard = {
    format: CARD_FORMAT,
    modelKind: model.kind,
    preset: options.model,
    config: { ...config },
    parameters: model.params.count(),
    weights: WEIGHTS_FILE,
    tokenizer: TOKENIZER_FILE,
    head: 'prompt',
    prompt: { suffix: DEFAULT_PROMPT_SUFFIX, labelWords: DEFAULT_LABEL_WORDS },
    classNames: [...CLASS_NAMES],
    training: {
      command: options.command ?? null,
      data: 'SpamAssassin train split (4,836 messages), packed [bos] text [eos] windows',
      trainTokens: trainLm.stream.length,
      tokensSeen: options.steps * options.batch * config.seq,
      seed: options.seed,
      steps: options.steps,
      batch: options.batch,
      seq: config.seq,
      optimizer: optimizer.name,
      ...(options.optimizerOptions && Object.keys(options.optimizerOptions).length > 0 ? { optimizerOptions: options.optimizerOptions } : {}),
      lr: options.lr,
      warmup: options.warmup,
      minLrRatio: options.minLrRatio,
      weightDecay: options.weightDecay,
      gradClip: options.gradClip,
      backend: backendName,
      backendMode: engine.backend.mode,
      tokenizerSeconds: round(tokenizerSeconds, 2),
      trainSeconds: round(trainSeconds, 1),
      evalSeconds: round(evalSeconds, 1),
      wallTimeSeconds: round((performance.now() - started) / 1000, 1),
      // other processes share the 2 cores: the 1-minute load average at start and end puts the wall time in context
      loadAverage1m: { start: round(loadAtStart, 2), end: round(loadavg()[0]!, 2) },
      history,
    },
    evaluation: {
      split: 'validation',
      validationMessages: validation.length,
      validationTokens: finalEval.tokens,
      validationLoss: round(finalEval.loss, 4),
      validationPerplexity: round(Math.exp(finalEval.loss), 2),
      unigramPerplexity: round(unigram, 2),
      uniformPerplexity: tokenizer.vocabSize,
    },
    memory: {
      note: 'MemoryLedger peaks in bytes for one batch of --batch sequences: a backprop step (forward under the tape + backward + optimizer) vs an inference forward (loss only)',
      batch: options.batch,
      trainStepPeak: trainPeakByCategory,
      inferencePeak,
      optimizerStateBytes: optimizer.stateBytes(),
    },
  };
  // the model in memory, adapters and all (lora/relora save theirs unmerged, which `zolo card` cannot reload)
  const classifier = new PromptClassifier(model, new EmailTask(tokenizer, [], { seq: config.seq, format: 'prompt' }).labelTokenIds);
  const metrics = await cardMetricsOf(
    { card, tokenizer, model: classifier, backend: backendName },
    { evalSize: options.validationMessages ?? 0, trainSize: options.probeTrainMessages ?? 0, batch: evalBatch },
  );
  const finished = withCardMetrics(card, metrics);
  finished.training.wallTimeSeconds = round((performance.now() - started) / 1000, 1);
  writeCard(options.out, finished);
  optimizer.dispose();
  model.params.dispose();
  engine.backend.dispose();
  return finished;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function parseNumber(flag: string): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed)) throw new ConfigError(`${flag} must be a number, got ${JSON.stringify(value)}`);
    return parsed;
  };
}

/** Only the flags given, so each optimizer's own defaults apply otherwise; rank/gap/scale are validated by the projector. */
function optimizerOptionsFromFlags(flags: Record<string, unknown>): Pick<PretrainingHyper, 'galore' | 'lora' | 'relora'> {
  const pick = <T extends object>(entries: [keyof T, unknown][]): T | undefined => {
    const given = entries.filter(([, value]) => value !== undefined);
    return given.length === 0 ? undefined : (Object.fromEntries(given) as T);
  };
  const galore = pick<NonNullable<PretrainingHyper['galore']>>([['rank', flags.galoreRank], ['updateGap', flags.galoreGap], ['scale', flags.galoreScale]]);
  const lora = pick<NonNullable<PretrainingHyper['lora']>>([['rank', flags.loraRank]]);
  const relora = pick<NonNullable<PretrainingHyper['relora']>>([['resetEvery', flags.reloraEvery], ['rewarmupSteps', flags.reloraRewarmup]]);
  if (galore && !String(flags.optimizer).startsWith('galore')) throw new ConfigError(`--galore-rank/--galore-gap/--galore-scale need a galore-* --optimizer, got ${JSON.stringify(flags.optimizer)}`);
  if (lora && flags.optimizer !== 'lora' && flags.optimizer !== 'relora') throw new ConfigError(`--lora-rank needs --optimizer lora or relora, got ${JSON.stringify(flags.optimizer)}`);
  if (relora && flags.optimizer !== 'relora') throw new ConfigError(`--relora-every/--relora-rewarmup need --optimizer relora, got ${JSON.stringify(flags.optimizer)}`);
  return { ...(galore ? { galore } : {}), ...(lora ? { lora } : {}), ...(relora ? { relora } : {}) };
}

export function register(program: Command): void {
  const d = PRETRAIN_DEFAULTS;
  addPluginOption(program.command('pretrain'), 'backprop optimizers, to pretrain with them')
    .description(commandDescription('pretrain'))
    .requiredOption('--model <preset>', `model preset: ${LANGUAGE_MODEL_PRESET_NAMES.join(' | ')}`)
    .option('--steps <n>', 'optimizer steps', parseNumber('--steps'), d.steps)
    .option('--batch <n>', 'sequences per step', parseNumber('--batch'), d.batch)
    .option('--lr <x>', 'peak learning rate', parseNumber('--lr'), d.lr)
    .option('--seed <n>', 'seed of initialisation and data order', parseNumber('--seed'), d.seed)
    .option('--out <dir>', 'checkpoint directory (default checkpoints/<preset>)')
    .option('--force', 'overwrite an existing, non-empty --out directory', false)
    .option('--backend <name>', 'kernel backend (see `zolo backends`)')
    .option('--optimizer <name>', `optimizer: ${pretrainOptimizerNames().join(' | ')}`, d.optimizer)
    .option('--vocab <n>', 'tokenizer vocabulary size (default: the preset\'s, at most 4096)', parseNumber('--vocab'))
    .option('--warmup <n>', `warm-up steps (default ${d.warmupFraction * 100}% of --steps)`, parseNumber('--warmup'))
    .option('--weight-decay <x>', 'decoupled weight decay (matrices only)', parseNumber('--weight-decay'), d.weightDecay)
    .option('--grad-clip <x>', 'clip the global gradient norm to this (0: off; adalomo updates inside backward and is never clipped)', parseNumber('--grad-clip'), d.gradClip)
    .option('--eval-every <n>', 'steps between validation passes (0: only at the end)', parseNumber('--eval-every'), d.evalEvery)
    .option('--eval-windows <n>', 'validation windows per intermediate pass', parseNumber('--eval-windows'), d.evalWindows)
    .option('--galore-rank <r>', 'galore-*: projection rank r (default d/4)', parseNumber('--galore-rank'))
    .option('--galore-gap <T>', 'galore-*: steps between projector refreshes T (default 200)', parseNumber('--galore-gap'))
    .option('--galore-scale <alpha>', 'galore-*: scale α of the projected update (default 0.25)', parseNumber('--galore-scale'))
    .option('--lora-rank <r>', 'lora / relora: adapter rank (default 8)', parseNumber('--lora-rank'))
    .option('--relora-every <K>', 'relora: merge and restart every K steps', parseNumber('--relora-every'))
    .option('--relora-rewarmup <n>', 'relora: lr re-warm-up steps after each restart', parseNumber('--relora-rewarmup'))
    .action(async (flags: Record<string, unknown>) => {
      await loadPlugins(flags.plugin as string[], '--plugin');
      const steps = flags.steps as number;
      const card = await pretrain({
        model: flags.model as string,
        steps,
        batch: flags.batch as number,
        lr: flags.lr as number,
        seed: flags.seed as number,
        out: (flags.out as string | undefined) ?? join('checkpoints', flags.model as string),
        optimizer: flags.optimizer as string,
        backend: flags.backend as string | undefined,
        force: flags.force as boolean,
        vocab: flags.vocab as number | undefined,
        warmup: (flags.warmup as number | undefined) ?? Math.max(1, Math.round(d.warmupFraction * steps)),
        minLrRatio: d.minLrRatio,
        weightDecay: flags.weightDecay as number,
        gradClip: flags.gradClip as number,
        evalEvery: flags.evalEvery as number,
        evalWindows: flags.evalWindows as number,
        command: `zolo ${process.argv.slice(2).join(' ')}`,
        optimizerOptions: optimizerOptionsFromFlags(flags),
      });
      const e = card.evaluation;
      console.log(
        `wrote ${card.weights}, ${card.tokenizer}, card.json to ${(flags.out as string | undefined) ?? join('checkpoints', flags.model as string)}: ` +
          `validation loss ${e.validationLoss} (perplexity ${e.validationPerplexity}; unigram ${e.unigramPerplexity}), ${card.training.wallTimeSeconds} s`,
      );
      console.log(formatCardMetrics(e));
    });
}
