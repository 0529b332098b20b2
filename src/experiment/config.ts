/**
 * The run config: every option of `zolo run` with its type, range and default, validated by one zod
 * schema. A config file, `--set key=value` and the CLI flags all land here, so every bad value gets
 * the same kind of message: `ConfigError: steps must be an integer ≥ 0, got -3`.
 *
 * Method-specific options (`options.*`) pass through untouched: the estimator/optimizer factory that
 * owns them validates them. Names of methods, tasks and backends are checked against their registries
 * in `checkNames` (runners register them at import time, so the schema itself stays static).
 */
import { z } from 'zod';
import { ConfigError, describeValue } from '../errors.ts';
import { defaultBackendName } from '../kernels/registry.ts';
import { allowedText, objectKeys, schemaAt } from './schemaWalk.ts';

/**
 * Defaults, named once. Batch 16 is MeZO's OPT setting [MeZO Table 15/16]; everything else is ours.
 * The backend defaults to the registry's choice (ZOLO_BACKEND, else the fastest registered); the
 * bit-for-bit guarantees (same seed ⇒ same numbers, resume ≡ uninterrupted) are stated for cpu.
 */
export const RUN_DEFAULTS = {
  task: 'spam',
  model: 'tiny',
  steps: 100,
  seed: 0,
  batchSize: 16,
  lrSchedule: 'constant',
  lrWarmup: 0,
  lrStepEvery: 0,
  lrStepFactor: 0.1,
  evalInterval: 0,
  evalSize: 0,
  logInterval: 1,
  checkpointEvery: 50,
  /** validation-accuracy targets whose first crossing the summary records (`firstReached`). */
  accuracyTargets: [0.85, 0.9],
  /**
   * A run whose smoothed training loss exceeds this multiple of its first loss is marked diverged.
   * 4 × ln 2 ≈ 2.8 nats on a balanced binary task is far beyond any loss a learning run passes
   * through, yet reached within a few steps of a blow-up.
   */
  divergeFactor: 4,
} as const;

const UINT32_MAX = 0xffffffff;

const positiveInt = (what = 'an integer ≥ 1') => z.number().int().min(1).describe(what);
const nonNegativeInt = (what = 'an integer ≥ 0') => z.number().int().min(0).describe(what);

export const LR_SCHEDULES = ['constant', 'linear', 'cosine', 'step'] as const;

/** How the evaluated point a run reports (`selected`) is chosen; test results never take part. */
export const SELECT_BY = ['val-accuracy', 'val-loss', 'last'] as const;
export type SelectBy = (typeof SELECT_BY)[number];

export const budgetSchema = z
  .strictObject({
    forwardPasses: positiveInt('an integer ≥ 1 (training forward passes), or null for no limit').nullable().default(null),
    wallSeconds: z.number().positive().finite().describe('a number of seconds > 0, or null for no limit').nullable().default(null),
  })
  .describe('an object with keys forwardPasses, wallSeconds');

export const runConfigSchema = z
  .strictObject({
    method: z.string().min(1).describe('a method name (see `zolo methods`)'),
    plugins: z
      .array(z.string().min(1).describe('a module path'))
      .describe('a list of plug-in module paths (relative to the config file, else the working directory)')
      .default([]),
    task: z.string().min(1).default(RUN_DEFAULTS.task).describe('a task name: spam or a synthetic task'),
    taskOptions: z.record(z.string(), z.unknown()).default({}).describe('an object of task options'),
    model: z.string().min(1).default(RUN_DEFAULTS.model).describe('tiny, small, a checkpoint path or a Hugging Face model folder'),
    steps: nonNegativeInt('an integer ≥ 0 (0 = evaluate only)').default(RUN_DEFAULTS.steps),
    budget: budgetSchema.default({ forwardPasses: null, wallSeconds: null }),
    seed: z.number().int().min(0).max(UINT32_MAX).describe(`an integer in [0, ${UINT32_MAX}]`).default(RUN_DEFAULTS.seed),
    batchSize: positiveInt().default(RUN_DEFAULTS.batchSize),
    lr: z.number().positive().finite().describe("a number > 0, or null for the method's default").nullable().default(null),
    lrSchedule: z.enum(LR_SCHEDULES).describe(`one of ${LR_SCHEDULES.join(', ')}`).default(RUN_DEFAULTS.lrSchedule),
    lrWarmup: nonNegativeInt('an integer ≥ 0 (steps of linear warm-up from 0 to lr)').default(RUN_DEFAULTS.lrWarmup),
    lrStepEvery: nonNegativeInt('an integer ≥ 1 (steps between step-decay drops), required by lrSchedule "step"').default(RUN_DEFAULTS.lrStepEvery),
    lrStepFactor: z.number().gt(0).max(1).describe('a number in (0, 1] (step decay multiplies lr by it every lrStepEvery steps)').default(RUN_DEFAULTS.lrStepFactor),
    trainable: z
      .array(z.string().min(1).describe('a parameter name, a name pattern with * or a group name'))
      .min(1)
      .describe("a non-empty list of parameter names, patterns with * (e.g. \"blocks.1.*\") or group names, or null for the method's choice")
      .nullable()
      .default(null),
    weightDecay: z.number().min(0).finite().describe("a number ≥ 0, or null for the method's default").nullable().default(null),
    evalInterval: nonNegativeInt('an integer ≥ 0 (steps between evaluations; 0 = only at the end)').default(RUN_DEFAULTS.evalInterval),
    evalSize: nonNegativeInt('an integer ≥ 0 (validation examples per evaluation; 0 = all)').default(RUN_DEFAULTS.evalSize),
    selectBy: z
      .enum(SELECT_BY)
      .describe(`one of ${SELECT_BY.join(', ')}, or null for val-accuracy when evalInterval > 0 and last otherwise`)
      .nullable()
      .default(null),
    accuracyTargets: z
      .array(z.number().gt(0).max(1).describe('a number in (0, 1]'))
      .describe('a list of validation accuracies in (0, 1]')
      .default([...RUN_DEFAULTS.accuracyTargets]),
    divergeFactor: z
      .number()
      .finite()
      .refine((value) => value === 0 || value > 1)
      .describe('0 (off), a number > 1 (diverged when the smoothed training loss exceeds it × the first loss), or null (off)')
      .nullable()
      .default(RUN_DEFAULTS.divergeFactor),
    logInterval: positiveInt('an integer ≥ 1 (steps between metrics lines)').default(RUN_DEFAULTS.logInterval),
    backend: z.string().min(1).default(() => defaultBackendName()).describe('a backend name (see `zolo backends`)'),
    options: z.record(z.string(), z.unknown()).default({}).describe('an object of method-specific options'),
    out: z.string().min(1).nullable().default(null).describe('a directory path'),
    force: z.boolean().default(false).describe('true or false'),
    checkpointEvery: nonNegativeInt('an integer ≥ 0 (steps between checkpoints; 0 = only at the end)').default(RUN_DEFAULTS.checkpointEvery),
    saveWeights: z.boolean().default(true).describe('true or false'),
  })
  .describe('a run config object');

export type RunConfig = z.output<typeof runConfigSchema>;

/** The selection rule a config means: null resolves to val-accuracy when there are evaluations during training. */
export function resolvedSelectBy(config: Pick<RunConfig, 'selectBy' | 'evalInterval'>): SelectBy {
  return config.selectBy ?? (config.evalInterval > 0 ? 'val-accuracy' : 'last');
}
export type RunConfigInput = z.input<typeof runConfigSchema>;

/** Every top-level key of the run config (for help texts and suite validation). */
export const RUN_CONFIG_KEYS = objectKeys(runConfigSchema)!;

function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  const parts = [...(prefix ? [prefix] : []), ...path.map(String)];
  return parts.join('.');
}

/**
 * Turns the first zod issue into a ConfigError naming the field, the value and what is allowed.
 * `prefix` names where the object came from (e.g. `runs[2]` in a suite).
 */
export function issueToConfigError(root: z.ZodType, issue: z.core.$ZodIssue & { input?: unknown }, prefix = ''): ConfigError {
  const path = issue.path as (string | number)[];
  if (issue.code === 'unrecognized_keys') {
    const where = joinPath(prefix, path);
    const allowed = objectKeys(schemaAt(root, path) ?? root) ?? [];
    const keys = issue.keys.map((k) => `"${joinPath(where, [k])}"`).join(', ');
    return new ConfigError(`unknown key ${keys}; allowed${where ? ` in ${where}` : ''}: ${allowed.join(', ')}`);
  }
  const field = joinPath(prefix, path) || 'config';
  const allowed = allowedText(root, path) ?? issue.message;
  const got = issue.input === undefined ? 'nothing' : describeValue(issue.input);
  return new ConfigError(`${field} must be ${allowed}, got ${got}`);
}

/** Validates a (partial) run config and fills defaults; throws ConfigError on the first bad field. */
export function parseRunConfig(input: unknown, prefix = ''): RunConfig {
  const result = runConfigSchema.safeParse(input, { reportInput: true });
  if (!result.success) throw issueToConfigError(runConfigSchema, result.error.issues[0]!, prefix);
  const config = result.data;
  if (config.lrSchedule === 'step' && config.lrStepEvery === 0) {
    throw new ConfigError(`${joinPath(prefix, ['lrStepEvery'])} must be an integer ≥ 1 when lrSchedule is "step", got 0`);
  }
  return config;
}

export interface NameRegistries {
  methods: readonly string[];
  tasks: readonly string[];
  backends: readonly string[];
  /** the method adapter's option check (throws ConfigError). */
  checkOptions(method: string, options: Record<string, unknown>): void;
  /** whether the method picks its own trainable parameters (then `trainable` must stay null). */
  choosesTrainable(method: string): boolean;
  /** the task's `taskOptions` check (throws ConfigError); absent = not checked here. */
  checkTaskOptions?(task: string, taskOptions: Record<string, unknown>): void;
}

/** Checks the names the schema cannot know statically; `prefix` as in parseRunConfig. */
export function checkNames(config: RunConfig, known: NameRegistries, prefix = ''): void {
  const check = (field: string, value: string, allowed: readonly string[]): void => {
    if (!allowed.includes(value)) {
      throw new ConfigError(`${joinPath(prefix, [field])} must be one of ${allowed.join(', ')}, got ${describeValue(value)}`);
    }
  };
  check('method', config.method, known.methods);
  check('task', config.task, known.tasks);
  check('backend', config.backend, known.backends);
  try {
    known.checkOptions(config.method, config.options);
    known.checkTaskOptions?.(config.task, config.taskOptions);
  } catch (error) {
    if (error instanceof ConfigError && prefix) throw new ConfigError(`${prefix}: ${error.message}`);
    throw error;
  }
  checkTrainableAllowed(config, known.choosesTrainable(config.method), prefix);
}

/** `trainable` must stay null for a method that picks its own trainable parameters; `prefix` as in parseRunConfig. */
export function checkTrainableAllowed(config: Pick<RunConfig, 'method' | 'trainable'>, choosesTrainable: boolean, prefix = ''): void {
  if (config.trainable === null || !choosesTrainable) return;
  throw new ConfigError(
    `${joinPath(prefix, ['trainable'])} must be null for method ${config.method}, which chooses its trainable parameters itself (its adapters, or none), got ${describeValue(config.trainable)}`,
  );
}
