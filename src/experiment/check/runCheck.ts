/**
 * `runCheck`: every assumption check on one model + task, in an order that keeps the starting
 * point shared: (1) loss and tape gradient at θ₀ on a fixed batch, (2) smoothness, (3) Hessian
 * effective rank, (4) estimator quality for each requested ZO estimator (adapter presets get a
 * fresh workload with their adapters attached, so d is the adapter count), (5) the short AdamW run
 * for low-rank gradients and the PL indicator, which moves the weights and therefore comes last.
 * Each step is also a plain exported function (checkEstimator, lowRankTrajectory, and the
 * src/assumptions checkers on `modelProblem`).
 */
import { estimatorQuality, type EstimatorQuality } from '../../assumptions/estimatorQuality.ts';
import { type EffectiveRankEstimate, hessianEffectiveRank } from '../../assumptions/hessian.ts';
import { gradientLipschitz, type LipschitzEstimate } from '../../assumptions/smoothness.ts';
import { dot } from '../../assumptions/vectors.ts';
import { ConfigError } from '../../errors.ts';
import { createBackend, defaultBackendName } from '../../kernels/index.ts';
import { Engine, MemoryLedger } from '../../tensor/index.ts';
import { createEstimator, listPresets, type PresetParts } from '../../zo/index.ts';
import '../builtins.ts';
import { attachPresetAdapters, presetAdapters } from '../methods/zo.ts';
import { createWorkload, type Batch, type Workload } from '../workload.ts';
import { CHECK_DEFAULTS } from './defaults.ts';
import { estimatorSampler } from './estimatorSampler.ts';
import { lowRankTrajectory, type LowRankTrajectory } from './lowRankTrajectory.ts';
import { spectralTraces, type SpectralTraces } from './spectralDensity.ts';
import { modelProblem, type ModelProblem, workloadObjective } from './problem.ts';

export interface CheckOptions {
  model: string;
  task: string;
  /** ZO estimator presets (src/zo registry names). */
  methods: readonly string[];
  taskOptions?: Record<string, unknown>;
  batch?: number;
  draws?: number;
  probes?: number;
  lanczosIterations?: number;
  steps?: number;
  seed?: number;
  backend?: string;
  progress?: (line: string) => void;
}

export interface EstimatorCheck {
  method: string;
  parts: PresetParts;
  /** d: trainable parameters the estimator perturbs (adapters only for adapter presets). */
  dim: number;
  trainable: 'all' | 'adapters';
  queries: number;
  eps: number;
  /** LOZO's 1/r applied (paper convention), so ĝ is unbiased. */
  paperScaling: boolean;
  /** theory for this estimator at this gradient (module dimensionFactor.ts), null when none applies. */
  theory: number | null;
  /** d + 2: Gaussian SPSA over the same d, the yardstick every estimator is compared with. */
  gaussianReference: number;
  /** ‖g‖ of the tape gradient the estimates are compared with. */
  gradientNorm: number;
  quality: EstimatorQuality;
  forwardPasses: number;
  seconds: number;
}

export interface CheckResults {
  version: 1;
  model: string;
  task: string;
  backend: string;
  seed: number;
  /** fixed batch: training-split indices. */
  batchIndices: number[];
  /** trainable parameters of the base model. */
  dim: number;
  startLoss: number;
  gradientNorm: number;
  smoothness: LipschitzEstimate;
  hessian: EffectiveRankEstimate & {
    probes: number;
    lanczosIterations: number;
    /** SLQ traces of H, H₊ and |H| (spectralDensity.ts). */
    slq: SpectralTraces;
    /** tr(H₊)/λ_max: the effective rank MeZO's Assumption 1 can use at an indefinite Hessian. */
    positiveEffectiveRank: number;
  };
  estimators: EstimatorCheck[];
  lowRank: LowRankTrajectory;
  seconds: Record<string, number>;
}

/** Fixed batch: B indices spread evenly over the training split (deterministic, both classes on a shuffled split). */
export function fixedBatch(trainSize: number, batch: number): Batch {
  const stride = Math.max(1, Math.floor(trainSize / batch));
  return Array.from({ length: Math.min(batch, trainSize) }, (_, i) => (i * stride) % trainSize);
}

export function zoMethodNames(): string[] {
  return listPresets().map((preset) => preset.name);
}

/** Estimator quality of one preset at the problem's starting point, against the tape gradient `g`. */
export async function checkEstimator(
  method: string, problem: ModelProblem, g: Float64Array,
  options: { draws: number; seed: number; trainable: 'all' | 'adapters'; paperScaling?: boolean },
): Promise<EstimatorCheck> {
  const started = performance.now();
  const preset = listPresets().find((p) => p.name === method);
  if (!preset) throw new ConfigError(`--method must be a ZO estimator, one of ${zoMethodNames().join(', ')}, got "${method}"`);
  const estimator = createEstimator(method);
  const paperScaling = options.paperScaling ?? true;
  const sampler = estimatorSampler(estimator, problem, { seed: options.seed, paperScaling });
  try {
    const theory = sampler.theory(g);
    const quality = await estimatorQuality(sampler.sample, g, { draws: options.draws, ...(theory === null ? {} : { theoreticalDimensionFactor: theory }) });
    return {
      method,
      parts: {
        perturbation: estimator.parts.perturbation.name,
        schedule: estimator.parts.schedule.name,
        difference: estimator.parts.difference.name,
        optimizer: estimator.parts.optimizer.name,
      },
      dim: problem.dim,
      trainable: options.trainable,
      queries: sampler.queries,
      eps: sampler.eps,
      paperScaling,
      theory,
      gaussianReference: problem.dim + 2,
      gradientNorm: Math.sqrt(dot(g, g)),
      quality,
      forwardPasses: sampler.forwardPasses(),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    sampler.dispose();
  }
}

export async function runCheck(options: CheckOptions): Promise<CheckResults> {
  const say = options.progress ?? (() => {});
  const batch = options.batch ?? CHECK_DEFAULTS.batch;
  const draws = options.draws ?? CHECK_DEFAULTS.draws;
  const probes = options.probes ?? CHECK_DEFAULTS.probes;
  const lanczosIterations = options.lanczosIterations ?? CHECK_DEFAULTS.lanczosIterations;
  const steps = options.steps ?? CHECK_DEFAULTS.steps;
  const seed = options.seed ?? CHECK_DEFAULTS.seed;
  const known = zoMethodNames();
  for (const method of options.methods) {
    if (!known.includes(method)) throw new ConfigError(`--method must be ZO estimators among ${known.join(', ')}, got "${method}"`);
  }
  const backendName = options.backend ?? defaultBackendName();
  const backend = await createBackend(backendName);
  const engine = new Engine(backend, new MemoryLedger());
  const seconds: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      seconds[name] = (performance.now() - started) / 1000;
    }
  };
  const newWorkload = (): Promise<Workload> => createWorkload({ task: options.task, model: options.model, taskOptions: options.taskOptions ?? {}, seed, engine });

  const workload = await newWorkload();
  try {
    const batchIndices = fixedBatch(workload.trainSize, batch);
    const problem = await modelProblem(workloadObjective(workload, batchIndices));
    const theta = problem.start();
    say(`start: ${problem.dim.toLocaleString('en-US')} trainable parameters, fixed batch of ${batchIndices.length}, backend ${backendName}`);
    const { loss: startLoss, gradient } = await timed('gradient', () => problem.lossAndGradient(theta));
    const gradientNorm = Math.sqrt(dot(gradient, gradient));
    say(`start: loss ${startLoss.toFixed(4)}, ‖∇f‖ ${gradientNorm.toExponential(3)}`);

    const smoothness = await timed('smoothness', () => gradientLipschitz(problem, theta, { directions: CHECK_DEFAULTS.lipschitzDirections, seed }));
    say(`smoothness: directional L lower bound ${smoothness.lowerBound.toExponential(3)} (random mean ${smoothness.random.mean.toExponential(3)})`);

    say(`hessian: ${probes} Hutchinson probes + ${lanczosIterations} Lanczos iterations (${2 * (probes + lanczosIterations)} gradients)`);
    const hessian = await timed('hessian', () => hessianEffectiveRank(problem, theta, { probes, lanczosIterations, seed }));
    const slqProbes = CHECK_DEFAULTS.slqProbes;
    say(`hessian: stochastic Lanczos quadrature, ${slqProbes} probes × ${lanczosIterations} iterations (${2 * slqProbes * lanczosIterations} gradients)`);
    const slq = await timed('slq', () => spectralTraces(problem, theta, { probes: slqProbes, iterations: lanczosIterations, seed }));
    const lambdaMax = Math.max(hessian.spectrum.top, slq.largestRitz);
    const positiveEffectiveRank = lambdaMax > 0 ? slq.positiveTrace.mean / lambdaMax : 0;
    say(`hessian: tr(H₊) ${slq.positiveTrace.mean.toExponential(3)} ± ${slq.positiveTrace.standardError.toExponential(2)}, r₊ = tr(H₊)/λ_max ${positiveEffectiveRank.toFixed(1)}`);
    say(`hessian: tr ${hessian.trace.mean.toExponential(3)} ± ${hessian.trace.standardError.toExponential(2)}, λ_max ${hessian.spectrum.top.toExponential(3)}, effective rank ${hessian.effectiveRank.toFixed(1)} (${(100 * hessian.relativeToDimension).toPrecision(3)}% of d)`);

    const estimators: EstimatorCheck[] = [];
    for (const method of options.methods) {
      const adapters = presetAdapters(method);
      say(`estimator ${method}: ${draws} draws${adapters ? ` (${adapters.kind} adapters attached; d = adapter parameters)` : ''}`);
      const result = await timed(`estimator:${method}`, async () => {
        if (!adapters) return checkEstimator(method, problem, gradient, { draws, seed, trainable: 'all' });
        const adapted = await newWorkload();
        try {
          attachPresetAdapters(adapted, adapters, undefined, seed);
          const adapterProblem = await modelProblem(workloadObjective(adapted, batchIndices));
          const g = await adapterProblem.gradient(adapterProblem.start());
          return await checkEstimator(method, adapterProblem, g, { draws, seed, trainable: 'adapters' });
        } finally {
          adapted.dispose();
        }
      });
      const last = result.quality.convergence[result.quality.convergence.length - 1]!;
      say(`estimator ${method}: d ${result.dim}, E‖ĝ‖²/‖g‖² ${result.quality.dimensionFactor.mean.toExponential(3)} ± ${result.quality.dimensionFactor.standardError.toExponential(2)} (theory ${result.theory?.toExponential(3) ?? 'n/a'}), cosine after ${last.draws} draws ${last.cosine.toFixed(4)}`);
      estimators.push(result);
    }

    problem.restore();
    const lowRank = await timed('lowRank', () => lowRankTrajectory(workload, problem.objective, {
      steps, lr: CHECK_DEFAULTS.lr, batch, snapshots: CHECK_DEFAULTS.snapshots, ranks: CHECK_DEFAULTS.ranks,
      keep: CHECK_DEFAULTS.keptSingularValues, seed, progress: say,
    }));
    return {
      version: 1,
      model: options.model,
      task: options.task,
      backend: backendName,
      seed,
      batchIndices: [...batchIndices],
      dim: problem.dim,
      startLoss,
      gradientNorm,
      smoothness,
      hessian: { ...hessian, probes, lanczosIterations, slq, positiveEffectiveRank },
      estimators,
      lowRank,
      seconds,
    };
  } finally {
    workload.dispose();
    backend.dispose();
  }
}
