/**
 * The backprop optimizers by name — the one list `zolo run --method`, `zolo pretrain --optimizer`,
 * `zolo memory`, `zolo methods` and the run-config schema read, at call time, so an optimizer a
 * plug-in registers after import is seen by all of them. An entry is an update rule (a
 * `RuleDefinition`, one file under src/galore/rules) and how the method uses it: plain, GaLore's
 * projection around it (`galore`), or on LoRA/ReLoRA adapters (`adapters`), with options it fixes
 * or defaults. A new rule is one file plus one `registerBackpropOptimizer({ name, rule })` line.
 * A name registered twice is a ConfigError.
 */
import { checkKnownKeys, ConfigError, describeValue } from '../errors.ts';
import type { AdaptableModel } from '../nn/adapters/attach.ts';
import { LORA_DEFAULTS, type LoraOptions } from '../nn/adapters/lora.ts';
import { type Param, ParamStore } from '../tensor/params.ts';
import type { Shape } from '../tensor/tensor.ts';
import { ADAPTIVE_GAP_DEFAULTS, RELORA_DEFAULTS } from './defaults.ts';
import { galore, GALORE_SETTING_KEYS, type GaLoreSettings } from './galore.ts';
import { LoraOptimizer, type ReLoraSettings } from './lora.ts';
import type { ParamOptimizer } from './optimizer.ts';
import { RuleOptimizer } from './ruleOptimizer.ts';
import type { UpdateRule } from './rule.ts';

/**
 * What an optimizer is built from: the run's lr and λ, the method's objects (galore, lora, relora),
 * and the rule's own options under the names the rule declares (AdamW: beta1, beta2, eps,
 * eightBit; Adafactor: adafactor {…}; AdaLomo: adalomo {…}) — the run config's `options.<key>`.
 */
export interface OptimizerOptions {
  lr?: number;
  weightDecay?: number;
  /** decay only tensors with ≥ 2 axes (nanoGPT) instead of every trained one (the GaLore/HF reference). */
  decayMatricesOnly?: boolean;
  /** GaLore settings (rank, updateGap, scale, type, svd, targetModules, adaptive, …) for galore-*. */
  galore?: GaLoreSettings;
  /** lora / relora: the model to put adapters on (required), adapter shape, restart settings. */
  model?: AdaptableModel;
  lora?: Partial<LoraOptions>;
  relora?: Partial<ReLoraSettings>;
  seed?: number;
  /** the rule's own options. */
  readonly [option: string]: unknown;
}

/** Analytic optimizer state of one tensor (zolo memory): element counts by kind, and bytes. */
export interface StateSize {
  /** elements of full-size statistics (Adam's m and v, Adafactor's β1 moment). */
  moments: number;
  /** elements of factored statistics (Adafactor's rows + columns). */
  factored: number;
  bytes: number;
}

/** One update rule as the registry knows it: a file under src/galore/rules exports one. */
export interface RuleDefinition {
  readonly name: string;
  readonly description: string;
  /** the paper (and code) the rule follows. */
  readonly reference: string;
  /** the lr `zolo run` uses when the config leaves it null, unless the entry sets its own. */
  readonly defaultLr: number;
  readonly defaultWeightDecay: number;
  /** the options it reads: `options.<key>` a number, or an object with these keys. */
  readonly options: Readonly<Record<string, 'number' | readonly string[]>>;
  /** true: it updates only from the tape's per-parameter hook, never holding the model's gradients (LOMO, AdaLomo). */
  readonly fusedBackward?: boolean;
  /** the rule for one optimizer; bad option values are ConfigErrors naming options.<key>. */
  create(options: OptimizerOptions): UpdateRule;
  /** the state one tensor of `shape` (its projected shape under GaLore) holds. */
  stateSize(shape: Shape, elementBytes: number, options: OptimizerOptions): StateSize;
}

export interface BackpropOptimizer {
  readonly name: string;
  readonly rule: RuleDefinition;
  /** defaults to the rule's. */
  readonly description?: string;
  /** `zolo run`'s lr for this method when the config leaves it null; defaults to the rule's. */
  readonly defaultLr?: number;
  /** GaLore's projection of the target matrices around the rule. */
  readonly galore?: boolean;
  /** LoRA adapters (relora: merged and restarted every K steps) trained by the rule; the base weights freeze. */
  readonly adapters?: 'lora' | 'relora';
  /** rule options the method sets and a config may override (adamw8bit: eightBit). */
  readonly defaults?: Readonly<Record<string, unknown>>;
  /** rule options the method sets and a config may not give (adamw: no eightBit). */
  readonly fixed?: Readonly<Record<string, unknown>>;
}

const optimizers = new Map<string, BackpropOptimizer>();

export function registerBackpropOptimizer(entry: BackpropOptimizer): void {
  if (optimizers.has(entry.name)) throw new ConfigError(`a backprop optimizer named "${entry.name}" is already registered`);
  if (entry.galore && entry.adapters) throw new ConfigError(`backprop optimizer "${entry.name}": galore and adapters do not combine`);
  optimizers.set(entry.name, entry);
}

export function backpropOptimizerNames(): string[] {
  return [...optimizers.keys()];
}

export function isBackpropOptimizer(name: string): boolean {
  return optimizers.has(name);
}

export function backpropOptimizer(name: string): BackpropOptimizer {
  const entry = optimizers.get(name);
  if (!entry) throw new ConfigError(`optimizer must be one of ${backpropOptimizerNames().join(', ')}, got ${describeValue(name)}`);
  return entry;
}

export const describeOptimizer = (entry: BackpropOptimizer): string => entry.description ?? entry.rule.description;
export const defaultLrOf = (entry: BackpropOptimizer): number => entry.defaultLr ?? entry.rule.defaultLr;

/** How the method's options look to the rule: its defaults, the given ones, its fixed ones. */
export function ruleOptions(entry: BackpropOptimizer, options: OptimizerOptions): OptimizerOptions {
  return { ...entry.defaults, ...options, ...entry.fixed };
}

/** `options.<key>` the method accepts, each a number, a flag or an object's keys. */
export function optionShapes(entry: BackpropOptimizer): Record<string, 'number' | 'boolean' | readonly string[]> {
  const shapes: Record<string, 'number' | 'boolean' | readonly string[]> = {};
  for (const [key, shape] of Object.entries(entry.rule.options)) if (!(entry.fixed && key in entry.fixed)) shapes[key] = shape;
  if (!entry.rule.fusedBackward) shapes.perLayer = 'boolean';
  if (entry.galore) shapes.galore = GALORE_SETTING_KEYS;
  if (entry.adapters) shapes.lora = Object.keys(LORA_DEFAULTS);
  if (entry.adapters === 'relora') shapes.relora = Object.keys(RELORA_DEFAULTS);
  return shapes;
}

/**
 * Checks a run config's `options` for method `name` before any work: every key known, numbers
 * finite, flags boolean, objects with known keys, GaLore settings and rule values valid.
 */
export function checkOptimizerOptions(name: string, options: Readonly<Record<string, unknown>>): void {
  const entry = backpropOptimizer(name);
  const shapes = optionShapes(entry);
  for (const [key, value] of Object.entries(options)) {
    const shape = shapes[key];
    if (shape === undefined) throw new ConfigError(`options.${key} is not an option of ${name}; allowed: ${Object.keys(shapes).join(', ')}`);
    if (shape === 'number') {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(`options.${key} must be a finite number, got ${describeValue(value)}`);
    } else if (shape === 'boolean') {
      if (typeof value !== 'boolean') throw new ConfigError(`options.${key} must be true or false, got ${describeValue(value)}`);
    } else {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`options.${key} must be an object, got ${describeValue(value)}`);
      checkKnownKeys(`options.${key}`, value as Record<string, unknown>, shape);
    }
  }
  const adaptive = (options.galore as GaLoreSettings | undefined)?.adaptive;
  if (adaptive && typeof adaptive === 'object') checkKnownKeys('options.galore.adaptive', adaptive as unknown as Record<string, unknown>, Object.keys(ADAPTIVE_GAP_DEFAULTS));
  const rule = entry.rule.create(ruleOptions(entry, options));
  if (entry.galore) galore(rule, (options.galore as GaLoreSettings | undefined) ?? {});
}

/**
 * Builds optimizer `name` over the trainable parameters of `params`. lora/relora insert adapters
 * into `options.model` (freezing its weights) and train only those, so they ignore `params`.
 */
export function createOptimizer(name: string, params: ParamStore | readonly Param[], options: OptimizerOptions = {}): ParamOptimizer {
  const entry = backpropOptimizer(name);
  const list = params instanceof ParamStore ? params.all() : params;
  const engine = params instanceof ParamStore ? params.engine : list[0]?.tensor.engine ?? options.model?.params.engine;
  if (!engine) throw new ConfigError(`optimizer ${name}: no parameters given`);
  const settings = ruleOptions(entry, options);
  const base = entry.rule.create(settings);
  const rule = entry.galore ? galore(base, options.galore ?? {}) : base;
  const hyper = {
    name,
    lr: options.lr ?? defaultLrOf(entry),
    weightDecay: options.weightDecay ?? entry.rule.defaultWeightDecay,
    decayMatricesOnly: options.decayMatricesOnly ?? false,
  };
  if (!entry.adapters) return new RuleOptimizer(engine, list, rule, hyper);
  if (!options.model) throw new ConfigError(`optimizer ${name} needs options.model (the model to attach LoRA adapters to)`);
  return new LoraOptimizer(engine, options.model, {
    rule, hyper, lora: options.lora, relora: entry.adapters === 'relora' ? options.relora ?? {} : null, seed: options.seed,
  });
}
