/**
 * The estimator plug-in interface. A ZO estimator is four named parts (DESIGN.md "Estimators"):
 *
 *   perturbation × query schedule × difference scheme × ZO optimizer
 *
 * Each part is a small object of functions with explicit state (optax style): `init` builds the
 * state, the step functions take it and return the next one. Parts never see a model — only the
 * trainable `Param`s of a ParamStore and a loss closure bound by the caller to one minibatch.
 *
 * Device buffers inside a state (LOZO's V, momentum) are updated in place for memory's sake; the
 * state objects themselves are replaced, so a part's control flow stays a function of its inputs.
 */
import type { AdapterSpec } from '../nn/adapters/attach.ts';
import type { Engine, Param, Tensor } from '../tensor/index.ts';

/** Every estimator option is a number (counts, scales, coefficients), so `--set key=value` works uniformly. */
export type Options = Readonly<Record<string, number>>;

/** Options the engine owns and every part may read: η, ε, λ (options.ts COMMON_OPTIONS). */
export type CommonOptionName = 'lr' | 'eps' | 'weightDecay';

/**
 * The options one part sees: the ones it declares (typed by their names) plus the common ones.
 * Option names are one namespace per composition: two parts of one estimator may not declare the
 * same name, and no part may redeclare a common one (ConfigError when the estimator is composed).
 */
export type PartOptions<Name extends string = string> = Readonly<Record<Name | CommonOptionName, number>>;

export interface OptionSpec {
  default: number;
  description: string;
  /** where the default comes from, e.g. "MeZO Table 16 [P]". */
  source: string;
  /** throws a ConfigError naming `field` and the value when the value is not allowed. */
  check(field: string, value: number): void;
}

export type OptionSpecs<Name extends string = string> = Readonly<Record<Name, OptionSpec>>;

export type PartKind = 'perturbation' | 'schedule' | 'difference' | 'optimizer';

interface PartBase<Name extends string> {
  readonly kind: PartKind;
  readonly name: string;
  readonly description: string;
  /** the options this part declares, with defaults; it reads them (and the common ones) as `ctx.options`. */
  readonly options: OptionSpecs<Name>;
}

/** What every part's functions may look at: the trainable parameters in fixed order, their engine, the options. */
export interface PartContext<Name extends string = string> {
  readonly params: readonly Param[];
  readonly engine: Engine;
  /** this part's own options and the common ones. */
  readonly options: PartOptions<Name>;
  /**
   * Another part's options, for a part that needs a particular sibling (LOZO-M's low-rank
   * momentum is sized by the low-rank perturbation's rank).
   */
  optionsOf(kind: PartKind): Options;
  /** the run seed; parts derive their own counter-RNG keys from it (LOZO's V windows). */
  readonly runSeed: number;
}

// ------------------------------------------------------------------ perturbation

/**
 * One random direction Z(seed) over all trainable parameters, regenerable on demand (never stored).
 * `addTo(param, target, scale, decay)` performs target ← decay·target + scale·Z_param, where target
 * has the parameter's size: the parameter itself (perturb, restore, update) or a dense buffer
 * (momentum, Adam's gradient).
 */
export interface Direction {
  readonly seed: number;
  addTo(param: Param, target: Tensor, scale: number, decay?: number): void;
}

export interface Perturbation<State = unknown, Name extends string = string> extends PartBase<Name> {
  readonly kind: 'perturbation';
  /** true when directions are LowRankDirection (LOZO); optimizers that need factors check this. */
  readonly lowRank?: boolean;
  /** validates against the parameters (e.g. rank ≤ a weight's dims) and allocates persistent state. */
  init(ctx: PartContext<Name>): State;
  /** once per step, before any query (LOZO: redraw V when a new ν-window starts). */
  beginStep(ctx: PartContext<Name>, state: State, step: number): State;
  direction(ctx: PartContext<Name>, state: State, seed: number): Promise<Direction>;
  /** once per step after the update (LOZO: free the previous window's V). */
  endStep(state: State): State;
  dispose(state: State): void;
}

// ------------------------------------------------------------------ query schedule

export interface ScheduleInfo {
  /** 0-based step counter of the estimator. */
  readonly step: number;
  /** 0-based epoch the caller is in (AdaZeta's schedule is per epoch); 0 when the caller does not say. */
  readonly epoch: number;
}

export interface QuerySchedule<State = unknown, Name extends string = string> extends PartBase<Name> {
  readonly kind: 'schedule';
  init(options: PartOptions<Name>): State;
  /** number of directions q averaged at this step (n-SPSA, MeZO Def. 1); a positive integer. */
  queries(state: State, info: ScheduleInfo, options: PartOptions<Name>): { queries: number; state: State };
}

// ------------------------------------------------------------------ difference scheme

export interface DifferenceScheme<Name extends string = string> extends PartBase<Name> {
  readonly kind: 'difference';
  /** evaluation points as multiples of ε along Z, visited in order ([+1, −1] for the central scheme). */
  readonly points: readonly number[];
  /** whether L(θ) is needed (evaluated once per step and shared by all queries). */
  readonly needsBaseLoss: boolean;
  /** the projected gradient c from the losses at `points` (and L(θ) when needed); float64. */
  projectedGradient(losses: readonly number[], baseLoss: number | null, eps: number): number;
}

// ------------------------------------------------------------------ optimizer

export interface QueryEstimate {
  readonly seed: number;
  /** c_j, the projected gradient of direction j. */
  readonly projectedGradient: number;
  readonly direction: Direction;
}

/**
 * What an optimizer receives. The engine has already undone the last query's perturbation, so the
 * parameters are θ — unless the optimizer declares `fusesRestore`: then they are left at
 * θ + `pendingRestore`·Z_last (the last query's final evaluation point) and the optimizer folds
 * that restore into its own pass (zo-estimators.md §1.2 "Fusing steps 5 and 6"; MeZO's SGD).
 */
export interface UpdateContext<Name extends string = string> extends PartContext<Name> {
  readonly step: number;
  readonly lr: number;
  readonly queries: readonly QueryEstimate[];
  /** the restore the optimizer must apply itself (fusesRestore); 0 when the engine restored θ. */
  readonly pendingRestore: number;
  /** L(θ) if the difference scheme already evaluated it this step. */
  readonly baseLoss: number | null;
  /** evaluates the loss at the current parameters (the engine counts the forward pass); null during replay. */
  readonly evaluate: (() => Promise<number>) | null;
  /** the decision this optimizer logged at this step, during replay (ZO-SGD-Cons's kept point). */
  readonly replayedDecision: string | null;
}

export interface UpdateResult<State> {
  state: State;
  /** named losses the optimizer evaluated (Cons: base, minus, plus). */
  losses?: Record<string, number>;
  /** a choice that replay needs to reproduce the step (Cons: which point was kept). */
  decision?: string;
}

export interface ZoOptimizer<State = unknown, Name extends string = string> extends PartBase<Name> {
  readonly kind: 'optimizer';
  /** needs a low-rank perturbation (LOZO-M keeps momentum in the U factor's space). */
  readonly requiresLowRank?: boolean;
  /**
   * The optimizer undoes the last perturbation itself, inside its own update pass
   * (`ctx.pendingRestore`); absent, the engine restores θ before calling `update`.
   */
  readonly fusesRestore?: boolean;
  /** validates option combinations this optimizer cannot honour. */
  validate?(options: PartOptions<Name>): void;
  /** forward passes `update` itself spends (ZO-SGD-Cons measures candidate points); absent = 0. */
  updatePasses?(baseLossKnown: boolean): number;
  init(ctx: PartContext<Name>): State;
  update(ctx: UpdateContext<Name>, state: State): Promise<UpdateResult<State>>;
  /** for checkpoints: JSON plus named device tensors (omit when the state is empty). */
  save?(state: State): SavedPartState<Tensor>;
  /** the inverse of save on a freshly initialised state (tensors copied into its buffers). */
  load?(state: State, saved: SavedPartState<Float32Array>): State;
  dispose(state: State): void;
}

export interface SavedPartState<T> {
  json: unknown;
  tensors: Record<string, T>;
}

export type Part = Perturbation | QuerySchedule | DifferenceScheme | ZoOptimizer;

// ------------------------------------------------------------------ presets and records

export interface PresetParts {
  perturbation: string;
  schedule: string;
  difference: string;
  optimizer: string;
}

export interface Preset {
  readonly name: string;
  readonly description: string;
  /** the paper (and code) the preset reproduces. */
  readonly reference: string;
  readonly parts: PresetParts;
  /** option values that differ from the parts' own defaults, each with its source. */
  readonly defaults: Readonly<Record<string, { value: number; source: string }>>;
  /** free-form notes shown by `zolo methods` (conventions, deviations). */
  readonly notes?: readonly string[];
  /**
   * Adapters the runner attaches before building the estimator, so only they train (MeZO-LoRA's
   * LoRA factors, AdaZeta's TT adapters); absent, the estimator trains the model's own parameters.
   * `options.adapters` in a run config overrides fields of this spec.
   */
  readonly adapters?: AdapterSpec;
}

/** One step's record: everything a log, a plot or a replay needs. */
export interface StepRecord {
  /** 0-based step index. */
  step: number;
  lr: number;
  /** one seed per query (host RNG draws; each keys the counter RNG). */
  seeds: number[];
  /** c_j per query, float64. */
  projectedGradients: number[];
  /** losses at the difference scheme's points, per query (central: [ℓ₊, ℓ₋]). */
  queryLosses: number[][];
  /** L(θ) when evaluated (one-sided scheme, Cons). */
  baseLoss: number | null;
  /** the training loss to log: ℓ at the first evaluation point of the first query (MeZO logs ℓ₊). */
  loss: number;
  queries: number;
  forwardPasses: number;
  /** optimizer-specific losses (Cons candidates). */
  optimizerLosses?: Record<string, number>;
  decision?: string;
  wallMs: number;
}
