/**
 * Suite files: a grid of runs (methods × hyperparameters × seeds) over a shared base config.
 *
 *   {
 *     "name": "mezo", "description": "…", "targetAccuracy": 0.9,
 *     "base":  { "task": "spam", "model": "checkpoints/tiny", "steps": 500, … },   // any run-config keys
 *     "seeds": [0, 1, 2],
 *     "grid":  { "lr": [1e-6, 1e-5], "options.epsilon": [1e-3, 1e-2] },         // applied to every entry
 *     "runs":  [ { "label": "MeZO", "method": "mezo", "grid": { "options.queries": [1, 4] } }, … ]
 *   }
 *
 * Each entry of `runs` is a label, run-config keys that override `base`, and an optional grid merged
 * over the suite's grid (entry wins per key). Grid keys are dotted paths, as in `--set`. Every
 * expanded run is validated (names included) before anything runs; errors say which entry.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import { checkNames, issueToConfigError, parseRunConfig, RUN_CONFIG_KEYS, RUN_DEFAULTS, runConfigSchema, type NameRegistries, type RunConfig } from './config.ts';
import { isPlainObject, mergeLayers, setAtPath, type PlainObject } from './overrides.ts';

const gridSchema = z
  .record(z.string().min(1), z.array(z.unknown()).min(1).describe('a non-empty array of values'))
  .default({})
  .describe('an object mapping dotted config keys to non-empty arrays of values');

const runEntrySchema = z
  .looseObject({
    label: z.string().min(1).describe('a non-empty string'),
    grid: gridSchema,
  })
  .describe('an object with a label, run-config keys and an optional grid');

export const suiteSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9._-]+$/).describe('a name of letters, digits, ".", "_" or "-"'),
    description: z.string().default(''),
    targetAccuracy: z.number().gt(0).max(1).nullable().default(null).describe('a number in (0, 1], or null'),
    out: z.string().min(1).nullable().default(null).describe('a directory path, or null'),
    base: z.record(z.string(), z.unknown()).default({}).describe('an object of run-config keys'),
    seeds: z
      .array(z.number().int().min(0).max(0xffffffff).describe('an integer in [0, 4294967295]'))
      .min(1)
      .default([0])
      .describe('a non-empty array of integer seeds'),
    grid: gridSchema,
    runs: z.array(runEntrySchema).min(1).describe('a non-empty array of run entries'),
  })
  .describe('a suite object');

export type SuiteFile = z.output<typeof suiteSchema>;

export interface PlannedRun {
  /** folder name under DIR/runs, unique in the suite. */
  id: string;
  label: string;
  /** label plus grid point: the row of the report (averaged over seeds). */
  group: string;
  gridPoint: Record<string, unknown>;
  seed: number;
  config: RunConfig;
}

export function parseSuite(input: unknown, source = 'suite'): SuiteFile {
  const result = suiteSchema.safeParse(input, { reportInput: true });
  if (!result.success) throw issueToConfigError(suiteSchema, result.error.issues[0]!, source);
  const suite = result.data;
  for (const key of Object.keys(suite.base)) {
    if (key === 'seed' || key === 'out') throw new ConfigError(`${source}.base.${key} is set per run by the suite; use "seeds" and the suite's out`);
  }
  // a bad key or value in base is base's fault, not that of the first run it reaches
  const baseCheck = runConfigSchema.partial().safeParse(suite.base, { reportInput: true });
  if (!baseCheck.success) throw issueToConfigError(runConfigSchema, baseCheck.error.issues[0]!, `${source}.base`);
  return suite;
}

function cartesian(grid: Record<string, unknown[]>): Record<string, unknown>[] {
  let points: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    points = points.flatMap((point) => values.map((value) => ({ ...point, [key]: value })));
  }
  return points;
}

function shortValue(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9.=-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Expands a suite into its runs, each validated; `dir` is the suite's output folder. */
export function planSuite(suite: SuiteFile, dir: string, names: NameRegistries | null): PlannedRun[] {
  const planned: PlannedRun[] = [];
  const ids = new Set<string>();
  if (names?.checkTaskOptions && isPlainObject(suite.base.taskOptions)) {
    // the task these options are for: base's, else the default unless entries pick their own
    const task = typeof suite.base.task === 'string' ? suite.base.task : suite.runs.some((entry) => 'task' in entry) ? null : RUN_DEFAULTS.task;
    if (task !== null && names.tasks.includes(task)) {
      try {
        names.checkTaskOptions(task, suite.base.taskOptions);
      } catch (error) {
        if (error instanceof ConfigError) throw new ConfigError(`base: ${error.message}`);
        throw error;
      }
    }
  }
  suite.runs.forEach((entry, index) => {
    const { label, grid: entryGrid, ...overrides } = entry;
    const where = `runs[${index}] (${label})`;
    for (const key of Object.keys(overrides)) {
      if (!RUN_CONFIG_KEYS.includes(key) || key === 'seed' || key === 'out') {
        throw new ConfigError(`${where}: unknown key "${key}"; allowed: label, grid, ${RUN_CONFIG_KEYS.filter((k) => k !== 'seed' && k !== 'out').join(', ')}`);
      }
    }
    const grid = { ...suite.grid, ...entryGrid };
    for (const point of cartesian(grid)) {
      const group = Object.keys(point).length === 0 ? label : `${label} (${Object.entries(point).map(([k, v]) => `${k.split('.').pop()}=${shortValue(v)}`).join(', ')})`;
      let merged: PlainObject = mergeLayers(suite.base, overrides as PlainObject);
      for (const [key, value] of Object.entries(point)) merged = setAtPath(merged, key.split('.'), value);
      for (const seed of suite.seeds) {
        const id = `${slug(group)}-s${seed}`;
        if (ids.has(id)) throw new ConfigError(`${where}: two runs would share the folder "${id}"; give the entries distinct labels`);
        ids.add(id);
        const config = parseRunConfig({ ...merged, seed, out: `${dir}/runs/${id}` }, where);
        if (names) checkNames(config, names, where);
        planned.push({ id, label, group, gridPoint: point, seed, config });
      }
    }
  });
  return planned;
}
