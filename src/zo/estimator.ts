/**
 * The step engine that composes the four parts, and `createEstimator`, which resolves a preset plus
 * overrides into one validated estimator.
 *
 * One step (zo-estimators.md §1.2, generalised to q queries §1.4 and to any difference scheme):
 *   1. q ← schedule; the perturbation's per-step hook runs (LOZO: lazy V).
 *   2. L(θ) if the scheme needs it.
 *   3. For each query j: seed s_j from the host stream; walk θ through the scheme's points
 *      θ + p·ε·Z_j (in place, z regenerated), evaluating the loss at each; c_j from the losses (float64);
 *      restore θ — except after the last query, whose restore is handed to the optimizer to fuse.
 *   4. The optimizer updates θ from {(s_j, c_j, Z_j)}.
 * A non-finite loss restores θ (to rounding) and throws DivergenceError carrying the step; the state
 * is not advanced. Replay runs the same in-place arithmetic with the logged seeds and c_j and no
 * loss evaluations, which is why it reproduces a cpu run bit for bit (src/zo/replay.ts).
 */
import { ConfigError, DivergenceError, FormatError, describeValue } from '../errors.ts';
import type { Param, ParamStore } from '../tensor/index.ts';
import { COMMON_OPTIONS, optionSpecs, PART_KINDS } from './options.ts';
import { getPart, getPreset } from './registry.ts';
import { type SeedStream, stepSeedStream } from './seeds.ts';
import type {
  DifferenceScheme, Options, PartContext, PartKind, Perturbation, Preset, QueryEstimate,
  QuerySchedule, StepRecord, UpdateContext, ZoOptimizer,
} from './types.ts';

export interface EstimatorParts {
  perturbation: Perturbation;
  schedule: QuerySchedule;
  difference: DifferenceScheme;
  optimizer: ZoOptimizer;
}

export interface StepInput {
  /** the loss at the current parameters on the batch the caller bound; may be non-differentiable. */
  loss: (params: ParamStore) => Promise<number>;
  /** learning rate for this step (a caller-side schedule); defaults to options.lr. */
  lr?: number;
  /** 0-based epoch, for per-epoch query schedules (AdaZeta). */
  epoch?: number;
}

/** The part of a StepRecord a replay needs. */
export interface LoggedStep {
  step: number;
  lr: number;
  seeds: number[];
  projectedGradients: number[];
  decision?: string;
}

export interface EstimatorState {
  readonly step: number;
  readonly runSeed: number;
  readonly store: ParamStore;
  /** what each part sees: the same parameters and engine, its own options (plus the common ones). */
  readonly contexts: Readonly<Record<PartKind, PartContext>>;
  readonly nextSeed: SeedStream;
  readonly perturbation: unknown;
  readonly schedule: unknown;
  readonly optimizer: unknown;
}

export interface Estimator {
  /** the preset it was built from. */
  readonly method: string;
  readonly parts: EstimatorParts;
  /** every option of the composition by its (unique) name: the common ones and each part's. */
  readonly options: Options;
  /** each part's own options plus the common ones: what its `ctx.options` holds. */
  readonly partOptions: Readonly<Record<PartKind, Options>>;
  /** where each option value came from: 'default', 'preset' or 'override'. */
  readonly optionSources: Readonly<Record<string, string>>;
  /** allocates persistent state for the trainable parameters of `store` (fixed order). */
  init(store: ParamStore, config: { seed: number }): EstimatorState;
  step(state: EstimatorState, input: StepInput): Promise<{ state: EstimatorState; record: StepRecord }>;
  /**
   * Forward passes the next `step` will spend, known before it runs (a budget must never be
   * overshot): L(θ) when the difference needs it, q · (points per query), plus what the optimizer's
   * update measures; q comes from the query schedule at (state.step, epoch).
   */
  forwardPassesAt(state: EstimatorState, epoch: number): number;
  /** re-applies one logged step without evaluating any loss. */
  replayStep(state: EstimatorState, logged: LoggedStep): Promise<EstimatorState>;
  /**
   * `replayStep` as a live run continues it: the host seed stream is advanced past the step's
   * seeds, so the next live `step` draws what the logged run drew next (a replica catching up on
   * a run's log). A logged seed the stream does not produce is a FormatError: the log belongs to
   * another run or another starting point.
   */
  followStep(state: EstimatorState, logged: LoggedStep): Promise<EstimatorState>;
  /**
   * Checkpoint form of the state: JSON (step, host RNG, schedule, optimizer counters) plus the
   * optimizer's dense buffers. LOZO's V is not saved: it is a function of (run seed, window).
   */
  save(state: EstimatorState): Promise<SavedEstimatorState>;
  /** restores `saved` into a state fresh from `init` on the same parameters; the next step is identical. */
  load(state: EstimatorState, saved: SavedEstimatorState): EstimatorState;
  dispose(state: EstimatorState): void;
}

export interface SavedEstimatorState {
  json: { step: number; seedStream: object; schedule: unknown; optimizer: unknown };
  tensors: Record<string, Float32Array>;
}

export type Overrides = Readonly<Record<string, number | string | boolean>>;

/** The option values each part sees: its own names plus the common ones. */
function optionsByPart(parts: EstimatorParts, options: Options): Record<PartKind, Options> {
  const common = Object.fromEntries(Object.keys(COMMON_OPTIONS).map((name) => [name, options[name]!]));
  const byPart = {} as Record<PartKind, Options>;
  for (const kind of PART_KINDS) {
    byPart[kind] = Object.freeze({ ...common, ...Object.fromEntries(Object.keys(parts[kind].options).map((name) => [name, options[name]!])) });
  }
  return byPart;
}

function toNumber(field: string, value: number | string | boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  const parsed = value.trim() === '' ? Number.NaN : Number(value);
  if (Number.isNaN(parsed)) throw new ConfigError(`${field} must be a number, got ${describeValue(value)}`);
  return parsed;
}

/**
 * Builds an estimator from a registered preset. Overrides may replace parts by name
 * (`{ optimizer: 'adam' }`) and set any option of the resulting composition (`{ eps: 1e-2, queries: 4 }`);
 * values may be numeric strings (from `--set`). Unknown names, unknown options and bad values throw
 * ConfigError naming the field, the value and what is allowed.
 */
export function createEstimator(method: string, overrides: Overrides = {}): Estimator {
  const preset = getPreset(method);
  const selected: Record<PartKind, string> = { ...preset.parts };
  for (const kind of PART_KINDS) {
    const value = overrides[kind];
    if (value !== undefined) selected[kind] = String(value);
  }
  const parts: EstimatorParts = {
    perturbation: getPart('perturbation', selected.perturbation),
    schedule: getPart('schedule', selected.schedule),
    difference: getPart('difference', selected.difference),
    optimizer: getPart('optimizer', selected.optimizer),
  };
  const specs = optionSpecs(parts);
  const options: Record<string, number> = {};
  const sources: Record<string, string> = {};
  for (const [name, spec] of Object.entries(specs)) {
    options[name] = spec.default;
    sources[name] = 'default';
  }
  for (const [name, entry] of Object.entries(preset.defaults)) {
    if (name in specs) {
      options[name] = entry.value;
      sources[name] = 'preset';
    }
  }
  for (const [name, value] of Object.entries(overrides)) {
    if ((PART_KINDS as readonly string[]).includes(name)) continue;
    if (!(name in specs)) {
      throw new ConfigError(
        `estimator option "${name}" is not known for method ${method} (parts ${Object.values(selected).join(' × ')}); ` +
          `known: ${[...PART_KINDS, ...Object.keys(specs)].join(', ')}`,
      );
    }
    options[name] = toNumber(`estimator.${name}`, value);
    sources[name] = 'override';
  }
  for (const [name, spec] of Object.entries(specs)) spec.check(`estimator.${name}`, options[name]!);
  if (parts.optimizer.requiresLowRank && !parts.perturbation.lowRank) {
    throw new ConfigError(
      `estimator.optimizer ${parts.optimizer.name} needs a low-rank perturbation, got perturbation ${describeValue(parts.perturbation.name)}`,
    );
  }
  const partOptions = optionsByPart(parts, options);
  parts.optimizer.validate?.(partOptions.optimizer);
  return makeEstimator(preset, parts, Object.freeze(options), partOptions, Object.freeze(sources));
}

function makeEstimator(
  preset: Preset, parts: EstimatorParts, options: Options, partOptions: Record<PartKind, Options>, optionSources: Record<string, string>,
): Estimator {
  const { perturbation, schedule, difference, optimizer } = parts;

  function init(store: ParamStore, config: { seed: number }): EstimatorState {
    if (!Number.isInteger(config.seed)) throw new ConfigError(`seed must be an integer, got ${describeValue(config.seed)}`);
    const params: readonly Param[] = store.trainable();
    if (params.length === 0) throw new ConfigError('the parameter store has no trainable parameters to estimate a gradient for');
    const runSeed = config.seed >>> 0;
    const optionsOf = (kind: PartKind): Options => partOptions[kind];
    const contextOf = (kind: PartKind): PartContext => ({ params, engine: store.engine, options: partOptions[kind], optionsOf, runSeed });
    const contexts = { perturbation: contextOf('perturbation'), schedule: contextOf('schedule'), difference: contextOf('difference'), optimizer: contextOf('optimizer') };
    return {
      step: 0,
      runSeed,
      store,
      contexts,
      nextSeed: stepSeedStream(runSeed),
      perturbation: perturbation.init(contexts.perturbation),
      schedule: schedule.init(partOptions.schedule),
      optimizer: optimizer.init(contexts.optimizer),
    };
  }

  async function run(
    state: EstimatorState,
    live: StepInput | null,
    logged: LoggedStep | null,
  ): Promise<{ state: EstimatorState; record: StepRecord }> {
    const started = performance.now();
    const { contexts, store } = state;
    const context = contexts.perturbation;
    const step = state.step;
    const eps = options.eps!;
    const lr = logged ? logged.lr : (live!.lr ?? options.lr!);
    if (!(Number.isFinite(lr) && lr >= 0)) throw new ConfigError(`lr must be a finite number ≥ 0, got ${describeValue(lr)}`);
    const scheduled = schedule.queries(state.schedule, { step, epoch: live?.epoch ?? 0 }, partOptions.schedule);
    const queryCount = logged ? logged.seeds.length : scheduled.queries;
    if (!Number.isInteger(queryCount) || queryCount < 1) {
      throw new ConfigError(`schedule ${schedule.name} returned ${queryCount} queries at step ${step}; need a positive integer`);
    }
    let perturbationState = perturbation.beginStep(context, state.perturbation, step);
    let forwardPasses = 0;
    const evaluate = live
      ? async (): Promise<number> => {
          forwardPasses++;
          return live.loss(store);
        }
      : null;
    const shift = (direction: QueryEstimate['direction'], scale: number): void => {
      for (const param of context.params) direction.addTo(param, param.tensor, scale);
    };

    let baseLoss: number | null = null;
    if (difference.needsBaseLoss && evaluate) {
      baseLoss = await evaluate();
      if (!Number.isFinite(baseLoss)) throw new DivergenceError(`loss L(θ) is ${baseLoss} at step ${step}; θ unchanged`, step);
    }

    const queries: QueryEstimate[] = [];
    const queryLosses: number[][] = [];
    let pendingRestore = 0;
    for (let j = 0; j < queryCount; j++) {
      const seed = logged ? logged.seeds[j]! : state.nextSeed.next();
      const direction = await perturbation.direction(context, perturbationState, seed);
      const losses: number[] = [];
      let offset = 0;
      for (const point of difference.points) {
        shift(direction, (point - offset) * eps);
        offset = point;
        if (!evaluate) continue;
        const loss = await evaluate();
        if (!Number.isFinite(loss)) {
          shift(direction, -offset * eps);
          throw new DivergenceError(`loss is ${loss} at step ${step} (query ${j + 1}, point ${point}·ε); θ restored`, step);
        }
        losses.push(loss);
      }
      const projectedGradient = logged ? logged.projectedGradients[j]! : difference.projectedGradient(losses, baseLoss, eps);
      if (!Number.isFinite(projectedGradient)) {
        shift(direction, -offset * eps);
        throw new DivergenceError(`projected gradient is ${projectedGradient} at step ${step} (query ${j + 1}); θ restored`, step);
      }
      queries.push({ seed, projectedGradient, direction });
      queryLosses.push(losses);
      if (j < queryCount - 1) shift(direction, -offset * eps);
      else pendingRestore = -offset * eps;
    }

    // the engine owns the restore; an optimizer that fuses it into its own pass says so
    if (!optimizer.fusesRestore && pendingRestore !== 0) shift(queries[queries.length - 1]!.direction, pendingRestore);
    const updateContext: UpdateContext = {
      ...contexts.optimizer,
      step,
      lr,
      queries,
      pendingRestore: optimizer.fusesRestore ? pendingRestore : 0,
      baseLoss,
      evaluate,
      replayedDecision: logged?.decision ?? null,
    };
    const updated = await optimizer.update(updateContext, state.optimizer);
    perturbationState = perturbation.endStep(perturbationState);

    const record: StepRecord = {
      step,
      lr,
      seeds: queries.map((query) => query.seed),
      projectedGradients: queries.map((query) => query.projectedGradient),
      queryLosses,
      baseLoss,
      loss: queryLosses[0]?.[0] ?? baseLoss ?? Number.NaN,
      queries: queryCount,
      forwardPasses,
      wallMs: performance.now() - started,
    };
    if (updated.losses) record.optimizerLosses = updated.losses;
    if (updated.decision !== undefined) record.decision = updated.decision;
    return {
      state: { ...state, step: step + 1, perturbation: perturbationState, schedule: scheduled.state, optimizer: updated.state },
      record,
    };
  }

  async function replayStep(state: EstimatorState, logged: LoggedStep): Promise<EstimatorState> {
    if (logged.step !== state.step) {
      throw new ConfigError(`replay: log step ${logged.step} does not follow the state's step ${state.step}`);
    }
    return (await run(state, null, logged)).state;
  }

  return {
    method: preset.name,
    parts,
    options,
    partOptions,
    optionSources,
    init,
    step: (state, input) => run(state, input, null),
    forwardPassesAt(state, epoch) {
      const { queries } = schedule.queries(state.schedule, { step: state.step, epoch }, partOptions.schedule);
      const basePasses = difference.needsBaseLoss ? 1 : 0;
      return basePasses + queries * difference.points.length + (optimizer.updatePasses?.(difference.needsBaseLoss) ?? 0);
    },
    replayStep,
    async followStep(state, logged) {
      logged.seeds.forEach((seed, j) => {
        const drawn = state.nextSeed.next();
        if (drawn !== seed) throw new FormatError(`log step ${logged.step}, query ${j + 1}: seed ${seed}, but this run's seed stream gives ${drawn}`);
      });
      return replayStep(state, logged);
    },
    async save(state) {
      const saved = optimizer.save?.(state.optimizer) ?? { json: null, tensors: {} };
      const tensors: Record<string, Float32Array> = {};
      for (const [name, tensor] of Object.entries(saved.tensors)) tensors[name] = await tensor.read();
      return {
        json: { step: state.step, seedStream: state.nextSeed.save(), schedule: state.schedule, optimizer: saved.json },
        tensors,
      };
    },
    load(state, saved) {
      if (state.step !== 0) throw new ConfigError('estimator.load needs a state fresh from init');
      const optimizerState = optimizer.load ? optimizer.load(state.optimizer, { json: saved.json.optimizer, tensors: saved.tensors }) : state.optimizer;
      return {
        ...state,
        step: saved.json.step,
        nextSeed: stepSeedStream(state.runSeed, saved.json.seedStream),
        schedule: saved.json.schedule,
        optimizer: optimizerState,
      };
    },
    dispose(state) {
      perturbation.dispose(state.perturbation);
      optimizer.dispose(state.optimizer);
    },
  };
}
