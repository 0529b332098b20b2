/**
 * One run: a validated config → a trained (or evaluated) model and a folder of results.
 *
 *   DIR/config.json               the resolved config (a resume reads it back)
 *   DIR/metrics.jsonl             one line per logged step: step, forwardPasses, trainLoss, lr, wallMs[, eval[, test]]
 *   DIR/zo-log.jsonl              ZO methods: the per-step record (seeds, projected gradients) replay reads
 *   DIR/checkpoint.safetensors    the latest good checkpoint (atomic; see checkpoint.ts)
 *   DIR/summary.json              written at the end: status, counters, eval, memory, timing
 *   DIR/model.safetensors         final weights when saveWeights is on (the workload's model format,
 *                                 with the card `zolo predict` reads; bare parameters otherwise)
 *   DIR/start.safetensors         ZO methods: the starting weights, for `zolo replay`
 *
 * Determinism: the batch of step t is a pure function of (seed, t) (BatchSampler); a method's
 * randomness derives from (seed, step) or lives in its saved state; the checkpoint holds every
 * parameter bit-for-bit and the byte lengths of the two .jsonl files, which a resume truncates back
 * to. So on the cpu backend a resumed run ends bit-identical to an uninterrupted one, and two runs
 * of one config give the same summary numbers apart from `timing` and the `wallSeconds` of the
 * selected and first-reached points.
 *
 * Evaluation and selection (selection.ts): validation is evaluated at step 0 and every evalInterval
 * steps when evalInterval > 0, and at the end; the point chosen by `selectBy` on validation is the
 * summary's `selected`, and the test split is evaluated only when a new best point is found, so
 * test numbers never steer a choice. The best-so-far point lives in the checkpoint state.
 *
 * Divergence (divergence.ts): a non-finite training loss, or a smoothed training loss above
 * divergeFactor × the first loss, stops the run at that step; nothing after the last good
 * checkpoint is saved, and the summary says `status: "diverged"`, `divergedAtStep: k`.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchSampler } from '../data/batching.ts';
import { ConfigError } from '../errors.ts';
import { createBackend } from '../kernels/registry.ts';
import { MEMORY_CATEGORIES, MemoryLedger, type ByteCounts } from '../tensor/ledger.ts';
import { Engine } from '../tensor/tensor.ts';
import { loadPlugins, portablePluginPaths, resolvePluginPaths } from './plugins.ts';
import { checkTrainableAllowed, parseRunConfig, resolvedSelectBy, type RunConfig } from './config.ts';
import { readCheckpoint, writeCheckpoint, writeFileAtomic } from './checkpoint.ts';
import type { SafetensorsEntry } from '../nn/safetensors.ts';
import type { Backend } from '../kernels/backend.ts';
import { methodAdapter, takesSteps, type MethodAdapter, type MethodFamily, type TrainingMethod } from './method.ts';
import { prepareFreshDir, timestampedDir } from './outDir.ts';
import { checkForwardBudget, type BudgetStop } from './budget.ts';
import { recordFineTuning } from './fineTuneCard.ts';
import { finishedSummary, type ResumeExtension } from './resumeLimits.ts';
import { listenForStop, RunInterrupted, yieldToEventLoop } from './interrupt.ts';
import { acquireRunLock, assertUnlocked, type RunLock } from './runLock.ts';
import { silentProgress, type RunProgress } from './progress.ts';
import { learningRateAt } from './schedule.ts';
import { applyTrainable } from './trainable.ts';
import { median } from './stats.ts';
import { addLoss, hasDiverged, NO_LOSSES, type SmoothedLoss } from './divergence.ts';
import { emptyFirstReached, isNewBest, updateFirstReached, type EvalPoint, type FirstReached, type SelectedPoint } from './selection.ts';
import { createWorkload, saveParams, type EvalResult, type EvalSplit, type Workload } from './workload.ts';
import { checkZoLogResumable } from '../zo/replay.ts';
import { classCountsOf, type ClassCounts } from './summaryFields.ts';

export const FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  zoLog: 'zo-log.jsonl',
  checkpoint: 'checkpoint.safetensors',
  summary: 'summary.json',
  model: 'model.safetensors',
} as const;

export interface MetricsLine {
  step: number;
  forwardPasses: number;
  /** null on the evaluation-only lines (before the first step, zero-shot). */
  trainLoss: number | null;
  lr: number;
  wallMs: number;
  /** validation result at this step. */
  eval?: EvalResult;
  /** test result, present only at the steps where validation found a new best point. */
  test?: EvalResult;
}

export type RunStatus = 'completed' | 'diverged';

export interface RunSummary {
  method: string;
  family: MethodFamily;
  task: string;
  model: string;
  backend: string;
  seed: number;
  status: RunStatus;
  divergedAtStep: number | null;
  /** why the run stopped: the step budget, the forward-pass budget or the wall-time budget. */
  stoppedBy: 'steps' | 'forwardPasses' | 'wallSeconds' | 'divergence';
  steps: number;
  forwardPasses: number;
  trainableParams: number;
  totalParams: number;
  trainLoss: { first: number | null; last: number | null };
  /** the final validation result (null for a diverged run). */
  eval: EvalResult | null;
  /** the point chosen on validation by `selectBy`, with its test result; null when none was evaluated. */
  selected: SelectedPoint | null;
  /** per accuracy target, the first evaluated point whose validation accuracy reached it. */
  firstReached: FirstReached;
  memory: { peakBytes: ByteCounts & { total: number } };
  timing: { stepMsMedian: number | null; forwardMsMedian: number | null; wallSeconds: number };
  files: string[];
  /** examples per class of the evaluated part of each split (see summaryFields.ts); absent in older summaries. */
  classCounts?: ClassCounts | null;
  /**
   * present when the forward-pass budget stopped the run before a step that would have exceeded it:
   * that step was skipped (not cut), so `forwardPasses` ≤ the budget always.
   */
  budgetStop?: BudgetStop;
  /** limits raised by `--resume` (resume.ts), oldest first; absent when the run was never extended. */
  extensions?: ResumeExtension[];
}

/** What a checkpoint's JSON state holds besides the tensors. */
interface RunState {
  step: number;
  forwardPasses: number;
  wallMs: number;
  firstLoss: number | null;
  lastLoss: number | null;
  lastEval: EvalResult | null;
  /** moving average of the training loss for the divergence rule. */
  smoothedLoss: SmoothedLoss;
  selected: SelectedPoint | null;
  firstReached: FirstReached;
  /** whether the current weights were evaluated as the run's final point. */
  finalEvaluated: boolean;
  peakBytes: ByteCounts & { total: number };
  metricsBytes: number;
  zoLogBytes: number;
  method: unknown;
  extensions?: ResumeExtension[];
}

export interface RunOptions {
  /** continue the run in config.out from its checkpoint. */
  resume?: boolean;
  progress?: RunProgress;
  /** label for progress output. */
  label?: string;
  /** limits this resume raises (resolveResume); recorded in config.json, the checkpoint and the summary. */
  extensions?: ResumeExtension[];
  /** test hook: called after each completed step; throwing simulates a kill at that point. */
  afterStep?: (step: number) => void;
}

export interface RunResult {
  dir: string;
  summary: RunSummary;
  /** true when a resume found the run finished under its limits and did nothing. */
  alreadyFinished?: boolean;
}

/** Wraps a workload so every training forward pass is counted and timed. */
function countingWorkload(inner: Workload, forwardMs: number[]): { inner: Workload; workload: Workload; passes: () => number } {
  let passes = 0;
  const workload: Workload = {
    engine: inner.engine,
    params: inner.params,
    trainSize: inner.trainSize,
    validationSize: inner.validationSize,
    ...(inner.featureDim === undefined ? {} : { featureDim: inner.featureDim }),
    async loss(batch) {
      const start = performance.now();
      const loss = await inner.loss(batch);
      forwardMs.push(performance.now() - start);
      passes++;
      return loss;
    },
    testSize: inner.testSize,
    evaluate: (size, split) => inner.evaluate(size, split),
    dispose: () => inner.dispose(),
  };
  if (inner.lossAndGradients) {
    const lossAndGradients = inner.lossAndGradients.bind(inner);
    workload.lossAndGradients = async (batch, onParamGrad) => {
      passes++;
      return lossAndGradients(batch, onParamGrad);
    };
  }
  if (inner.saveModel) workload.saveModel = inner.saveModel.bind(inner);
  if (inner.linears) workload.linears = inner.linears.bind(inner);
  if (inner.labels) workload.labels = inner.labels.bind(inner);
  if (inner.pooledFeatures) {
    const pooledFeatures = inner.pooledFeatures.bind(inner);
    // reading training features is a baseline's training cost; held-out splits are evaluation
    workload.pooledFeatures = async (split, indices) => {
      if (split === 'train') passes++;
      return pooledFeatures(split, indices);
    };
  }
  return { inner, workload, passes: () => passes };
}

function fileSize(path: string): number {
  return existsSync(path) ? statSync(path).size : 0;
}

function peakOf(ledger: MemoryLedger, previous?: ByteCounts & { total: number }): ByteCounts & { total: number } {
  const peak = ledger.snapshot().peak;
  if (!previous) return peak;
  const merged = { ...peak };
  for (const category of [...MEMORY_CATEGORIES, 'total'] as const) merged[category] = Math.max(peak[category], previous[category]);
  return merged;
}

/** Resolves the output folder for a fresh run (never an existing non-empty one without force). */
export function resolveRunDir(config: RunConfig): string {
  const dir = config.out ?? timestampedDir(join('runs', `${config.method}-${config.task}`));
  // --force must not clear a folder another process is writing
  assertUnlocked(dir);
  prepareFreshDir(dir, config.force);
  return dir;
}

/** Reads DIR/config.json of an earlier run (for --resume). */
export function readRunConfig(dir: string): RunConfig {
  const path = join(dir, FILES.config);
  if (!existsSync(path)) throw new ConfigError(`--resume: ${dir} has no ${FILES.config}; it is not a zolo run folder`);
  const config = parseRunConfig(JSON.parse(readFileSync(path, 'utf8')), path);
  return { ...config, plugins: resolvePluginPaths(config.plugins, dir) };
}

/** config.json's text: the config with its plug-ins named relative to the run folder. */
function savedConfig(config: RunConfig, dir: string): string {
  return `${JSON.stringify({ ...config, out: dir, plugins: portablePluginPaths(config.plugins, dir) }, null, 2)}\n`;
}

export async function runExperiment(input: RunConfig, options: RunOptions = {}): Promise<RunResult> {
  const progress = options.progress ?? silentProgress;
  const config = { ...input, plugins: resolvePluginPaths(input.plugins) };
  await loadPlugins(config.plugins);
  const adapter = methodAdapter(config.method);
  checkTrainableAllowed(config, adapter.choosesTrainable === true);
  let dir: string;
  let lock: RunLock;
  if (options.resume) {
    if (!config.out) throw new ConfigError('--resume needs the run folder (out)');
    dir = config.out;
    mkdirSync(dir, { recursive: true });
    lock = acquireRunLock(dir);
    const finished = finishedSummary<RunSummary>(dir, FILES.summary, config);
    if (finished) {
      lock.release();
      return { dir, summary: finished, alreadyFinished: true };
    }
    // the run goes on: its old summary no longer describes it
    rmSync(join(dir, FILES.summary), { force: true });
    if (options.extensions?.length) writeFileSync(join(dir, FILES.config), savedConfig(config, dir));
  } else {
    dir = resolveRunDir(config);
    lock = acquireRunLock(dir);
    writeFileSync(join(dir, FILES.config), savedConfig(config, dir));
  }
  mkdirSync(dir, { recursive: true });
  const paths = {
    metrics: join(dir, FILES.metrics),
    zoLog: join(dir, FILES.zoLog),
    checkpoint: join(dir, FILES.checkpoint),
    summary: join(dir, FILES.summary),
  };

  const forwardMs: number[] = [];
  const stepMs: number[] = [];
  const lr = config.lr ?? adapter.defaultLr;
  let backend: Backend | null = null;
  let inner: Workload | null = null;
  let counted: ReturnType<typeof countingWorkload> | null = null;
  let method: TrainingMethod | null = null;
  let setupMs = 0;
  try {
    backend = await createBackend(config.backend);
    const ledger = new MemoryLedger();
    const engine = new Engine(backend, ledger);
    inner = await createWorkload({ task: config.task, model: config.model, taskOptions: config.taskOptions, seed: config.seed, engine });
    counted = countingWorkload(inner, forwardMs);
    if (config.trainable !== null) applyTrainable(inner.params, config.trainable);
    const setupStart = performance.now();
    method = await adapter.create({
      workload: counted.workload, options: config.options, lr, weightDecay: config.weightDecay,
      seed: config.seed, steps: config.steps, batchSize: config.batchSize,
    });
    // a baseline's predictions replace the model's wherever the runner evaluates
    if (method.evaluate) counted.workload.evaluate = method.evaluate.bind(method);
    setupMs = performance.now() - setupStart;
  } catch (error) {
    method?.dispose();
    inner?.dispose();
    backend?.dispose();
    lock.release();
    // a fresh run that could not even start leaves no folder behind (it held only config.json)
    if (!options.resume) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  try {
    return await train(config, options, { dir, paths, adapter, backend, counted, method, lr, forwardMs, stepMs, progress, setupMs });
  } finally {
    lock.release();
  }
}

interface Prepared {
  dir: string;
  paths: { metrics: string; zoLog: string; checkpoint: string; summary: string };
  adapter: MethodAdapter;
  backend: Backend;
  counted: ReturnType<typeof countingWorkload>;
  method: TrainingMethod;
  lr: number;
  forwardMs: number[];
  stepMs: number[];
  progress: RunProgress;
  /** wall time of the method's setup (a linear probe reads its training features there). */
  setupMs: number;
}

async function train(config: RunConfig, options: RunOptions, prepared: Prepared): Promise<RunResult> {
  const { dir, paths, adapter, backend, counted, method, lr, forwardMs, stepMs, progress, setupMs } = prepared;
  const workload = counted.workload;
  const ledger = workload.engine.ledger;
  const stop = listenForStop();
  try {
    const trainableParams = method.trainableParams();

    let state: RunState = {
      step: 0,
      // forward passes a method spent at setup (a linear probe's training features) are its cost too
      forwardPasses: counted.passes(),
      wallMs: setupMs,
      firstLoss: null,
      lastLoss: null,
      lastEval: null,
      smoothedLoss: NO_LOSSES,
      selected: null,
      firstReached: emptyFirstReached(config.accuracyTargets),
      finalEvaluated: false,
      peakBytes: peakOf(ledger),
      metricsBytes: 0,
      zoLogBytes: 0,
      method: null,
    };
    if (options.resume && fileSize(paths.zoLog) > 0) checkZoLogResumable(readFileSync(paths.zoLog, 'utf8').split('\n', 1)[0]!, paths.zoLog);
    if (options.resume && existsSync(paths.checkpoint)) {
      const checkpoint = readCheckpoint(paths.checkpoint);
      // fields a checkpoint of an older zolo lacks keep their fresh values
      state = { ...state, ...(checkpoint.state as Partial<RunState>) };
      const paramValues = new Map<string, Float32Array>();
      const methodTensors: Record<string, Float32Array> = {};
      for (const [name, entry] of checkpoint.tensors) {
        if (name.startsWith('param/')) paramValues.set(name.slice('param/'.length), entry.data);
        else if (name.startsWith('state/')) methodTensors[name.slice('state/'.length)] = entry.data;
      }
      if (options.extensions?.length) state.extensions = [...(state.extensions ?? []), ...options.extensions];
      workload.params.load(paramValues);
      method.loadState({ json: state.method, tensors: methodTensors });
      // drop what was logged after the checkpoint: the resumed run logs those steps again
      if (fileSize(paths.metrics) > state.metricsBytes) truncateSync(paths.metrics, state.metricsBytes);
      if (fileSize(paths.zoLog) > state.zoLogBytes) truncateSync(paths.zoLog, state.zoLogBytes);
    } else if (options.resume) {
      // killed before the first checkpoint: start over in the same folder
      if (existsSync(paths.metrics)) truncateSync(paths.metrics, 0);
      if (existsSync(paths.zoLog)) truncateSync(paths.zoLog, 0);
    }

    const saveCheckpoint = async (): Promise<void> => {
      const methodState = await method.saveState();
      const tensors = new Map<string, SafetensorsEntry>();
      const values = await workload.params.snapshot();
      for (const param of workload.params.all()) tensors.set(`param/${param.name}`, { shape: [...param.tensor.shape], data: values.get(param.name)! });
      for (const [name, data] of Object.entries(methodState.tensors)) tensors.set(`state/${name}`, { shape: [data.length], data });
      state = { ...state, peakBytes: peakOf(ledger, state.peakBytes), metricsBytes: fileSize(paths.metrics), zoLogBytes: fileSize(paths.zoLog), method: methodState.json };
      writeCheckpoint(paths.checkpoint, { tensors, state });
    };

    const totalSteps = takesSteps(adapter.family) ? config.steps : 0;
    const sampler = totalSteps > 0 ? new BatchSampler(workload.trainSize, config.batchSize, config.seed) : null;
    const forwardBudget = config.budget.forwardPasses;
    const wallBudgetMs = config.budget.wallSeconds === null ? null : config.budget.wallSeconds * 1000;
    const startForward = counted.passes() - state.forwardPasses;
    const sessionStart = performance.now() - state.wallMs;
    const wallNow = (): number => performance.now() - sessionStart;
    const logLine = (line: MetricsLine): void => appendFileSync(paths.metrics, `${JSON.stringify(line)}\n`);

    let stoppedBy: RunSummary['stoppedBy'] = 'steps';
    let budgetStop: BudgetStop | null = null;
    let lastStepPasses = 1;
    let divergedAtStep: number | null = null;
    // Memory columns report training (or, for zero-shot, inference at the training batch size):
    // evaluation runs at its own batch size, so its peak is kept out of the measurement window.
    const evaluate = async (split: EvalSplit): Promise<EvalResult> => {
      state.peakBytes = peakOf(ledger, state.peakBytes);
      const result = await workload.evaluate(config.evalSize, split);
      ledger.resetPeaks();
      return result;
    };
    const selectBy = resolvedSelectBy(config);
    /**
     * Evaluates validation at the current weights, updates the selection and first-reached records,
     * and evaluates test when the point is a new best; returns what the metrics line carries.
     */
    const evaluatePoint = async (point: EvalPoint, isFinal: boolean): Promise<{ eval: EvalResult; test?: EvalResult }> => {
      const validation = await evaluate('validation');
      state.lastEval = validation;
      state.finalEvaluated = isFinal;
      state.firstReached = updateFirstReached(state.firstReached, config.accuracyTargets, validation.accuracy, point);
      if (!isNewBest(selectBy, validation, state.selected?.validation ?? null, isFinal)) return { eval: validation };
      const test = await evaluate('test');
      state.selected = { ...point, by: selectBy, validation, test };
      return { eval: validation, test };
    };
    const pointNow = (wallMs: number): EvalPoint => ({ step: state.step, forwardPasses: state.forwardPasses, wallSeconds: wallMs / 1000 });
    if (adapter.family === 'zero-shot' && state.step === 0) {
      const loss = await counted.inner.loss(new BatchSampler(workload.trainSize, config.batchSize, config.seed).indicesAt(0));
      state.firstLoss = loss;
      state.lastLoss = loss;
    }

    const saveModel = async (file: string): Promise<void> => {
      if (workload.saveModel) return workload.saveModel(join(dir, file));
      await saveParams(join(dir, file), workload.params, { 'zolo.task': config.task, 'zolo.model': config.model });
    };
    if (method.startFile && state.step === 0) await saveModel(method.startFile);

    progress.start(options.label ?? `${config.method}`, totalSteps, state.step);

    if (state.step === 0 && config.evalInterval > 0 && totalSteps > 0 && state.lastEval === null) {
      const wallMs = wallNow();
      const evaluated = await evaluatePoint(pointNow(wallMs), false);
      logLine({ step: 0, forwardPasses: 0, trainLoss: null, lr, wallMs, ...evaluated });
    }

    const budgetSpent = (): 'forwardPasses' | 'wallSeconds' | null => {
      if (forwardBudget !== null && state.forwardPasses >= forwardBudget) return 'forwardPasses';
      if (wallBudgetMs !== null && wallNow() >= wallBudgetMs) return 'wallSeconds';
      return null;
    };
    while (state.step < totalSteps) {
      // a step may be all microtasks; yielding lets a pending SIGINT/SIGTERM handler run
      await yieldToEventLoop();
      if (stop.signal) {
        await saveCheckpoint();
        progress.stop(`${stop.signal} at step ${state.step}`);
        throw new RunInterrupted(`${stop.signal}: stopped at step ${state.step} of ${totalSteps}, checkpoint written. Resume with: zolo run --resume ${dir}`, stop.exitCode);
      }
      const spent = budgetSpent();
      if (spent === 'wallSeconds') {
        stoppedBy = spent;
        break;
      }
      if (forwardBudget !== null) {
        budgetStop = checkForwardBudget(forwardBudget, state.forwardPasses, state.step, method.forwardPassesAt?.(state.step) ?? lastStepPasses);
        if (budgetStop) {
          stoppedBy = 'forwardPasses';
          break;
        }
      }
      const stepLr = learningRateAt(config, lr, state.step, totalSteps);
      const stepStart = performance.now();
      const result = await method.step(sampler!.indicesAt(state.step), { step: state.step, lr: stepLr });
      stepMs.push(performance.now() - stepStart);
      const smoothedLoss = addLoss(state.smoothedLoss, result.loss);
      if (hasDiverged(result.loss, smoothedLoss, state.firstLoss ?? result.loss, config.divergeFactor)) {
        divergedAtStep = state.step;
        stoppedBy = 'divergence';
        break;
      }
      state.smoothedLoss = smoothedLoss;
      state.step++;
      lastStepPasses = counted.passes() - startForward - state.forwardPasses;
      state.forwardPasses = counted.passes() - startForward;
      state.firstLoss ??= result.loss;
      state.lastLoss = result.loss;
      state.wallMs = wallNow();
      if (result.log !== undefined) appendFileSync(paths.zoLog, `${JSON.stringify(result.log)}\n`);
      const evaluateNow = config.evalInterval > 0 && state.step % config.evalInterval === 0;
      // a point after which the loop stops is the final one (a wall budget crossed during this evaluation is caught below)
      const nextStepFits = forwardBudget === null || !checkForwardBudget(forwardBudget, state.forwardPasses, state.step, method.forwardPassesAt?.(state.step) ?? lastStepPasses);
      const evaluated = evaluateNow ? await evaluatePoint(pointNow(state.wallMs), state.step === totalSteps || budgetSpent() !== null || !nextStepFits) : null;
      if (evaluateNow || state.step % config.logInterval === 0 || state.step === totalSteps) {
        logLine({ step: state.step, forwardPasses: state.forwardPasses, trainLoss: result.loss, lr: stepLr, wallMs: state.wallMs, ...evaluated });
      }
      progress.step(state.step, { loss: result.loss, forwardPasses: state.forwardPasses, ...(evaluateNow ? { accuracy: state.lastEval!.accuracy } : {}) });
      if (config.checkpointEvery > 0 && state.step % config.checkpointEvery === 0) await saveCheckpoint();
      options.afterStep?.(state.step);
    }

    let finalEval: EvalResult | null = null;
    const files: string[] = [FILES.config, FILES.metrics];
    if (divergedAtStep === null) {
      if (!state.finalEvaluated) {
        const wallMs = wallNow();
        const evaluated = await evaluatePoint(pointNow(wallMs), true);
        logLine({ step: state.step, forwardPasses: state.forwardPasses, trainLoss: state.lastLoss, lr, wallMs, ...evaluated });
      }
      finalEval = state.lastEval;
      await saveCheckpoint();
      files.push(FILES.checkpoint);
      if (config.saveWeights) {
        await saveModel(FILES.model);
        files.push(FILES.model);
      }
    } else if (existsSync(paths.checkpoint)) {
      files.push(FILES.checkpoint);
    }
    if (existsSync(paths.zoLog)) files.push(FILES.zoLog);
    if (method.startFile && existsSync(join(dir, method.startFile))) files.push(method.startFile);

    const summary: RunSummary = {
      method: config.method,
      family: adapter.family,
      task: config.task,
      model: config.model,
      backend: config.backend,
      seed: config.seed,
      status: divergedAtStep === null ? 'completed' : 'diverged',
      divergedAtStep,
      stoppedBy,
      steps: state.step,
      forwardPasses: state.forwardPasses,
      trainableParams,
      totalParams: workload.params.count(),
      trainLoss: { first: state.firstLoss, last: state.lastLoss },
      eval: finalEval,
      selected: state.selected,
      firstReached: state.firstReached,
      memory: { peakBytes: peakOf(ledger, state.peakBytes) },
      timing: { stepMsMedian: median(stepMs), forwardMsMedian: median(forwardMs), wallSeconds: wallNow() / 1000 },
      files: [...files, FILES.summary],
      classCounts: classCountsOf(workload, config.evalSize),
      ...(budgetStop && budgetStop.passesLeft > 0 ? { budgetStop } : {}),
      ...(state.extensions?.length ? { extensions: state.extensions } : {}),
    };
    writeFileAtomic(paths.summary, `${JSON.stringify(summary, null, 2)}\n`);
    recordFineTuning(dir, config, lr, summary);
    progress.stop(divergedAtStep === null ? `done: ${describeOutcome(summary)}` : `diverged at step ${divergedAtStep}`);
    return { dir, summary };
  } finally {
    stop.dispose();
    method.dispose();
    workload.dispose();
    backend.dispose();
  }
}

export function describeOutcome(summary: RunSummary): string {
  if (summary.status === 'diverged') return `diverged at step ${summary.divergedAtStep}`;
  const accuracy = summary.eval ? `${(100 * summary.eval.accuracy).toFixed(1)}% accuracy` : 'no eval';
  const selected = summary.selected;
  const held = selected?.test ? `; selected by ${selected.by}: step ${selected.step}, test ${(100 * selected.test.accuracy).toFixed(1)}%` : '';
  return `${accuracy}, ${summary.steps} steps, ${summary.forwardPasses} forward passes${held}`;
}
