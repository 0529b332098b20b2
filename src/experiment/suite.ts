/**
 * Running a suite: plan every run (validated up front), run the ones not finished yet, then write
 * results.json, report.md and plots/*.svg into the suite folder.
 *
 *   DIR/suite.json         the suite as parsed (a resume reads it back)
 *   DIR/runs/<id>/         one run folder per (entry, grid point, seed), as `zolo run` writes it
 *   DIR/results.json       every run's grid point, config, summary and curve
 *   DIR/report.md          the head-to-head table (mean ± std over seeds) and the plots
 *   DIR/plots/*.svg        loss vs step, loss vs forward passes, accuracy vs wall time, memory
 *
 * A run counts as finished when its summary.json exists; `resume` skips finished runs and continues
 * interrupted ones from their checkpoints. It runs the suite as given, which may extend the saved
 * suite.json but not change or drop a started run (suiteResume.ts).
 *
 * Plug-ins: `base.plugins` and a run entry's own `plugins` (relative to the suite file) are imported
 * before the plan is checked; an entry's list replaces base's for that entry's runs, like any key.
 *
 * Where: `out`, else a fresh runs/<name>-<timestamp>. A suite file's own `out` names its committed
 * results; they are rewritten only when asked (`updateResults`, which clears and refills that folder),
 * so running a committed suite never collides with, or silently replaces, what is committed.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, FormatError } from '../errors.ts';
import { registeredBackends } from '../kernels/registry.ts';
import { methodAdapter, registeredMethods } from './method.ts';
import type { NameRegistries } from './config.ts';
import { prepareFreshDir, timestampedDir } from './outDir.ts';
import { loadPlugins, pluginBaseDir, portablePluginPaths, resolvePluginPaths } from './plugins.ts';
import { renderPlots } from './plots.ts';
import type { SuiteProgress } from './progress.ts';
import { renderReport } from './report.ts';
import { readMetrics, thinCurve, type RunResultEntry, type SuiteResults } from './results.ts';
import { describeOutcome, FILES, runExperiment, type RunSummary } from './runner.ts';
import { parseSuite, planSuite, type PlannedRun, type SuiteFile } from './suiteConfig.ts';
import { reconcileSuitePlans, type SuiteChange } from './suiteResume.ts';
import { checkTaskOptions, registeredTasks } from './workload.ts';

export interface SuiteOptions {
  /** output folder; default runs/<name>-<timestamp> (a fresh folder). */
  out?: string;
  /** write into the suite file's `out` (its committed results), replacing them; with resume, continue there. */
  updateResults?: boolean;
  /** continue the suite in its folder: the suite given here, reconciled with the saved suite.json (suiteResume.ts). */
  resume?: boolean;
  /** the suite file's path, for messages. */
  file?: string;
  force?: boolean;
  progress?: SuiteProgress;
}

export interface SuiteOutcome {
  dir: string;
  results: SuiteResults;
  reportPath: string;
  plotPaths: string[];
  ran: number;
  skipped: number;
  /** on resume: the runs the suite file added to, and dropped from, the saved suite.json. */
  change: SuiteChange;
}

export function readSuiteFile(path: string): SuiteFile {
  if (!existsSync(path)) throw new ConfigError(`suite file ${path} does not exist`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new FormatError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  // relative plug-in paths belong to the suite file, wherever it is run from
  return withPluginPaths(parseSuite(json, path), (plugins) => resolvePluginPaths(plugins, pluginBaseDir(path)));
}

/** The suite with every layer's `plugins` list mapped by `map`. */
function withPluginPaths(suite: SuiteFile, map: (plugins: string[]) => string[]): SuiteFile {
  const mapped = <T extends Record<string, unknown>>(layer: T): T => {
    const plugins = pluginList(layer);
    return plugins ? { ...layer, plugins: map(plugins) } : layer;
  };
  return { ...suite, base: mapped(suite.base), runs: suite.runs.map(mapped) };
}

/** A layer's `plugins` when it is a list of paths; anything else is left to the plan's checks, which name the field. */
function pluginList(layer: Record<string, unknown>): string[] | null {
  const { plugins } = layer;
  return Array.isArray(plugins) && plugins.every((path) => typeof path === 'string') ? plugins : null;
}

/** Imports the plug-ins named in `base.plugins` and the run entries' `plugins`, so the names they register pass the plan's checks. */
export async function loadSuitePlugins(suite: SuiteFile): Promise<void> {
  await loadPlugins(pluginList(suite.base) ?? [], 'base.plugins');
  for (const entry of suite.runs) await loadPlugins(pluginList(entry) ?? [], `runs "${entry.label}" plugins`);
}

export function knownNames(): NameRegistries {
  return {
    methods: registeredMethods(),
    tasks: registeredTasks(),
    backends: registeredBackends(),
    checkOptions: (method, options) => methodAdapter(method).checkOptions(options),
    choosesTrainable: (method) => methodAdapter(method).choosesTrainable === true,
    checkTaskOptions,
  };
}

/** Validates a suite file completely (schema, every expanded run, every name); returns the plan. */
export function checkSuite(suite: SuiteFile, dir = `runs/${suite.name}`): PlannedRun[] {
  return planSuite(suite, dir, knownNames());
}

function readSummary(dir: string): RunSummary | null {
  const path = join(dir, FILES.summary);
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as RunSummary) : null;
}

/** Collects results.json from the run folders of a plan (finished runs only). */
export function collectResults(suite: SuiteFile, plan: readonly PlannedRun[]): SuiteResults {
  const runs: RunResultEntry[] = [];
  for (const run of plan) {
    const summary = readSummary(run.config.out!);
    if (!summary) continue;
    runs.push({ id: run.id, label: run.label, group: run.group, seed: run.seed, gridPoint: run.gridPoint, config: run.config, summary, curve: thinCurve(readMetrics(run.config.out!)) });
  }
  return { suite: { name: suite.name, description: suite.description, targetAccuracy: suite.targetAccuracy }, runs };
}

/** Writes results.json, report.md and plots/ for `results` into `dir`. */
export async function writeSuiteOutputs(dir: string, results: SuiteResults): Promise<{ reportPath: string; plotPaths: string[] }> {
  const runs = results.runs.map((run) => ({ ...run, config: { ...run.config, plugins: portablePluginPaths(run.config.plugins, dir) } }));
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify({ ...results, runs }, null, 1)}\n`);
  const plotsDir = join(dir, 'plots');
  mkdirSync(plotsDir, { recursive: true });
  const plots = await renderPlots(results);
  const plotPaths: string[] = [];
  for (const plot of plots) {
    const path = join(plotsDir, `${plot.name}.svg`);
    writeFileSync(path, plot.svg);
    plotPaths.push(path);
  }
  const reportPath = join(dir, 'report.md');
  writeFileSync(reportPath, renderReport(results, plots.map((plot) => ({ title: plot.title, path: `plots/${plot.name}.svg` }))));
  return { reportPath, plotPaths };
}

/** The suite's output folder for these options (see the file comment); throws when none is implied. */
export function suiteOutDir(suite: SuiteFile, options: Pick<SuiteOptions, 'out' | 'updateResults' | 'resume'>): string {
  if (options.out !== undefined) {
    if (options.updateResults && suite.out !== null && options.out !== suite.out) {
      throw new ConfigError(`--update-results writes to the suite's "out" (${suite.out}); drop --out ${options.out} or --update-results`);
    }
    return options.out;
  }
  if (options.updateResults) {
    if (suite.out === null) throw new ConfigError(`--update-results: suite "${suite.name}" has no "out" (committed results folder); pass --out DIR`);
    return suite.out;
  }
  if (options.resume) throw new ConfigError('--resume needs the suite folder: pass --out DIR (or --update-results to continue the suite\'s committed "out")');
  return timestampedDir(join('runs', suite.name));
}

export async function runSuite(suiteInput: SuiteFile, options: SuiteOptions = {}): Promise<SuiteOutcome> {
  let suite = suiteInput;
  let dir: string;
  let change: SuiteChange = { added: [], dropped: [] };
  if (options.resume) {
    dir = suiteOutDir(suite, options);
    const saved = join(dir, 'suite.json');
    if (!existsSync(saved)) throw new ConfigError(`--resume: ${dir} has no suite.json; it is not a zolo suite folder`);
    const savedSuite = readSuiteFile(saved);
    await loadSuitePlugins(savedSuite);
    await loadSuitePlugins(suite);
    change = reconcileSuitePlans(planSuite(savedSuite, dir, knownNames()), planSuite(suite, dir, knownNames()), options.file ?? 'the suite file');
  } else {
    dir = suiteOutDir(suite, options);
    await loadSuitePlugins(suite);
    // validate everything before touching the folder
    planSuite(suite, dir, knownNames());
    prepareFreshDir(dir, (options.force ?? false) || (options.updateResults ?? false), 'suite');
  }
  const portable = withPluginPaths(suite, (plugins) => portablePluginPaths(plugins, dir));
  writeFileSync(join(dir, 'suite.json'), `${JSON.stringify(portable, null, 2)}\n`);
  const plan = planSuite(suite, dir, knownNames());
  const finished = (run: PlannedRun): boolean => existsSync(join(run.config.out!, FILES.summary));
  const progress = options.progress;
  progress?.startSuite(plan.length, plan.filter(finished).length);
  let ran = 0;
  let skipped = 0;
  for (const run of plan) {
    if (finished(run)) {
      skipped++;
      continue;
    }
    const resume = existsSync(join(run.config.out!, FILES.config));
    const { summary } = await runExperiment(run.config, { resume, label: `${run.group} s${run.seed}`, ...(progress ? { progress: progress.run(run.group) } : {}) });
    progress?.finishRun(`${run.group} s${run.seed}`, describeOutcome(summary));
    ran++;
  }
  progress?.stopSuite();
  const results = collectResults(suite, plan);
  const { reportPath, plotPaths } = await writeSuiteOutputs(dir, results);
  return { dir, results, reportPath, plotPaths, ran, skipped, change };
}
