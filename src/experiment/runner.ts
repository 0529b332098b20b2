/**
 * One run: a validated config → a trained (or evaluated) model and a folder of results.
 *
 *   DIR/config.json               the resolved config (a resume reads it back)
 *   DIR/metrics.jsonl             one line per logged step: step, forwardPasses, trainLoss, lr, wallMs[, eval]
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
 * of one config give the same summary numbers apart from `timing`.
 *
 * Divergence: a non-finite training loss stops the run at that step; nothing after the last good
 * checkpoint is saved, and the summary says `status: "diverged"`, `divergedAtStep: k`.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchSampler } from '../data/batching.ts';
import { ConfigError } from '../kernels/errors.ts';
import { createBackend } from '../kernels/registry.ts';
import { MEMORY_CATEGORIES, MemoryLedger, type ByteCounts } from '../tensor/ledger.ts';
import { Engine } from '../tensor/tensor.ts';
import { parseRunConfig, type RunConfig } from './config.ts';
import { readCheckpoint, writeCheckpoint, writeFileAtomic } from './checkpoint.ts';
import { writeSafetensors, type SafetensorsEntry } from '../nn/safetensors.ts';
import type { Backend } from '../kernels/backend.ts';
import { methodAdapter, type MethodAdapter, type MethodFamily, type TrainingMethod } from './method.ts';
import { prepareFreshDir, timestampedDir } from './outDir.ts';
import { checkForwardBudget, type BudgetStop } from './budget.ts';
import { recordFineTuning } from './fineTuneCard.ts';
import { finishedSummary, type ResumeExtension } from './resumeLimits.ts';
import { listenForStop, RunInterrupted, yieldToEventLoop } from './interrupt.ts';
import { acquireRunLock, assertUnlocked, type RunLock } from './runLock.ts';
import { silentProgress, type RunProgress } from './progress.ts';
import { learningRateAt } from './schedule.ts';
import { median } from './stats.ts';
import { createWorkload, type EvalResult, type Workload } from './workload.ts';

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
  eval?: EvalResult;
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
  eval: EvalResult | null;
  memory: { peakBytes: ByteCounts & { total: number } };
  timing: { stepMsMedian: number | null; forwardMsMedian: number | null; wallSeconds: number };
  files: string[];
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
    async loss(batch) {
      const start = performance.now();
      const loss = await inner.loss(batch);
      forwardMs.push(performance.now() - start);
      passes++;
      return loss;
    },
    evaluate: (size) => inner.evaluate(size),
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
  return parseRunConfig(JSON.parse(readFileSync(path, 'utf8')), path);
}

export async function runExperiment(config: RunConfig, options: RunOptions = {}): Promise<RunResult> {
  const progress = options.progress ?? silentProgress;
  const adapter = methodAdapter(config.method);
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
    if (options.extensions?.length) writeFileSync(join(dir, FILES.config), `${JSON.stringify(config, null, 2)}\n`);
  } else {
    dir = resolveRunDir(config);
    lock = acquireRunLock(dir);
    writeFileSync(join(dir, FILES.config), `${JSON.stringify({ ...config, out: dir }, null, 2)}\n`);
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
  try {
    backend = await createBackend(config.backend);
    const ledger = new MemoryLedger();
    const engine = new Engine(backend, ledger);
    inner = await createWorkload({ task: config.task, model: config.model, taskOptions: config.taskOptions, seed: config.seed, engine });
    counted = countingWorkload(inner, forwardMs);
    method = await adapter.create({
      workload: counted.workload, options: config.options, lr, weightDecay: config.weightDecay,
      seed: config.seed, steps: config.steps, batchSize: config.batchSize,
    });
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
    return await train(config, options, { dir, paths, adapter, backend, counted, method, lr, forwardMs, stepMs, progress });
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
}

async function train(config: RunConfig, options: RunOptions, prepared: Prepared): Promise<RunResult> {
  const { dir, paths, adapter, backend, counted, method, lr, forwardMs, stepMs, progress } = prepared;
  const workload = counted.workload;
  const ledger = workload.engine.ledger;
  const stop = listenForStop();
  try {
    const trainableParams = method.trainableParams();

    let state: RunState = {
      step: 0,
      forwardPasses: 0,
      wallMs: 0,
      firstLoss: null,
      lastLoss: null,
      lastEval: null,
      peakBytes: peakOf(ledger),
      metricsBytes: 0,
      zoLogBytes: 0,
      method: null,
    };
    if (options.resume && existsSync(paths.checkpoint)) {
      const checkpoint = readCheckpoint(paths.checkpoint);
      state = checkpoint.state as RunState;
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

    const totalSteps = adapter.family === 'zero-shot' ? 0 : config.steps;
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
    const evaluate = async (): Promise<EvalResult> => {
      state.peakBytes = peakOf(ledger, state.peakBytes);
      const result = await workload.evaluate(config.evalSize);
      ledger.resetPeaks();
      return result;
    };
    if (adapter.family === 'zero-shot' && state.step === 0) {
      const loss = await counted.inner.loss(new BatchSampler(workload.trainSize, config.batchSize, config.seed).indicesAt(0));
      state.firstLoss = loss;
      state.lastLoss = loss;
    }

    const saveModel = async (file: string): Promise<void> => {
      if (workload.saveModel) return workload.saveModel(join(dir, file));
      const values = await workload.params.snapshot();
      const entries: [string, SafetensorsEntry][] = workload.params.all().map((param) => [param.name, { shape: [...param.tensor.shape], data: values.get(param.name)! }]);
      await writeSafetensors(join(dir, file), entries, { 'zolo.format': 'zolo-params/1', 'zolo.task': config.task, 'zolo.model': config.model });
    };
    if (method.startFile && state.step === 0) await saveModel(method.startFile);

    progress.start(options.label ?? `${config.method}`, totalSteps, state.step);

    if (state.step === 0 && config.evalInterval > 0 && totalSteps > 0 && state.lastEval === null) {
      state.lastEval = await evaluate();
      logLine({ step: 0, forwardPasses: 0, trainLoss: null, lr, wallMs: wallNow(), eval: state.lastEval });
    }

    while (state.step < totalSteps) {
      // a step may be all microtasks; yielding lets a pending SIGINT/SIGTERM handler run
      await yieldToEventLoop();
      if (stop.signal) {
        await saveCheckpoint();
        progress.stop(`${stop.signal} at step ${state.step}`);
        throw new RunInterrupted(`${stop.signal}: stopped at step ${state.step} of ${totalSteps}, checkpoint written. Resume with: zolo run --resume ${dir}`, stop.exitCode);
      }
      if (forwardBudget !== null) {
        budgetStop = checkForwardBudget(forwardBudget, state.forwardPasses, state.step, method.forwardPassesAt?.(state.step) ?? lastStepPasses);
        if (budgetStop) {
          stoppedBy = 'forwardPasses';
          break;
        }
      }
      if (wallBudgetMs !== null && wallNow() >= wallBudgetMs) {
        stoppedBy = 'wallSeconds';
        break;
      }
      const stepLr = learningRateAt(config.lrSchedule, lr, state.step, totalSteps);
      const stepStart = performance.now();
      const result = await method.step(sampler!.indicesAt(state.step), { step: state.step, lr: stepLr });
      stepMs.push(performance.now() - stepStart);
      if (!Number.isFinite(result.loss)) {
        divergedAtStep = state.step;
        stoppedBy = 'divergence';
        break;
      }
      state.step++;
      lastStepPasses = counted.passes() - startForward - state.forwardPasses;
      state.forwardPasses = counted.passes() - startForward;
      state.firstLoss ??= result.loss;
      state.lastLoss = result.loss;
      state.wallMs = wallNow();
      if (result.log !== undefined) appendFileSync(paths.zoLog, `${JSON.stringify(result.log)}\n`);
      const evaluateNow = config.evalInterval > 0 && state.step % config.evalInterval === 0;
      if (evaluateNow) state.lastEval = await evaluate();
      if (evaluateNow || state.step % config.logInterval === 0 || state.step === totalSteps) {
        const line: MetricsLine = { step: state.step, forwardPasses: state.forwardPasses, trainLoss: result.loss, lr: stepLr, wallMs: state.wallMs };
        if (evaluateNow) line.eval = state.lastEval!;
        logLine(line);
      }
      progress.step(state.step, { loss: result.loss, forwardPasses: state.forwardPasses, ...(evaluateNow ? { accuracy: state.lastEval!.accuracy } : {}) });
      if (config.checkpointEvery > 0 && state.step % config.checkpointEvery === 0) await saveCheckpoint();
      options.afterStep?.(state.step);
    }

    let finalEval: EvalResult | null = null;
    const files: string[] = [FILES.config, FILES.metrics];
    if (divergedAtStep === null) {
      const evaluatedNow = config.evalInterval > 0 && state.step > 0 && state.step % config.evalInterval === 0 && state.lastEval !== null;
      const evaluation = evaluatedNow ? state.lastEval! : await evaluate();
      if (!evaluatedNow) {
        state.lastEval = evaluation;
        logLine({ step: state.step, forwardPasses: state.forwardPasses, trainLoss: state.lastLoss, lr, wallMs: wallNow(), eval: evaluation });
      }
      finalEval = evaluation;
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
      memory: { peakBytes: peakOf(ledger, state.peakBytes) },
      timing: { stepMsMedian: median(stepMs), forwardMsMedian: median(forwardMs), wallSeconds: wallNow() / 1000 },
      files: [...files, FILES.summary],
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
  return `${accuracy}, ${summary.steps} steps, ${summary.forwardPasses} forward passes`;
}
