/**
 * Resolving a run config from its three sources, in this order (later wins):
 *   defaults (config.ts) < --config file.json < CLI flags < --set key=value (in the order given).
 * Flags are typed by the schema exactly like --set (a flag is a named --set). The result is
 * validated as a whole, then method, task and backend names are checked against their registries.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, FormatError } from '../errors.ts';
import { checkNames, parseRunConfig, resolvedSelectBy, runConfigSchema, type RunConfig } from './config.ts';
import { methodAdapter } from './method.ts';
import { loadPlugins, pluginBaseDir, resolvePluginPaths } from './plugins.ts';
import { applySets, isPlainObject, mergeLayers, type PlainObject } from './overrides.ts';
import { knownNames } from './suite.ts';

/** CLI flag (commander's camelCase name) → config path. */
export const FLAG_PATHS: Readonly<Record<string, string>> = {
  method: 'method',
  task: 'task',
  model: 'model',
  steps: 'steps',
  seed: 'seed',
  batchSize: 'batchSize',
  lr: 'lr',
  lrSchedule: 'lrSchedule',
  lrWarmup: 'lrWarmup',
  selectBy: 'selectBy',
  divergeFactor: 'divergeFactor',
  weightDecay: 'weightDecay',
  evalInterval: 'evalInterval',
  evalSize: 'evalSize',
  logInterval: 'logInterval',
  backend: 'backend',
  out: 'out',
  checkpointEvery: 'checkpointEvery',
  forwardBudget: 'budget.forwardPasses',
  wallBudget: 'budget.wallSeconds',
};

export interface ConfigSources {
  /** the layer under everything else instead of the defaults (a resumed run's saved config). */
  base?: PlainObject;
  configFile?: string;
  /** raw flag values by commander name (strings, or true for boolean flags). */
  flags?: Record<string, unknown>;
  sets?: readonly string[];
  /** plug-in modules from the command line (`--plugin`, relative to the working directory), after the config's own. */
  plugins?: readonly string[];
}

export function readConfigFile(path: string): PlainObject {
  if (!existsSync(path)) throw new ConfigError(`--config file ${path} does not exist`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new FormatError(`--config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(json)) throw new ConfigError(`--config file ${path} must hold a JSON object, got ${Array.isArray(json) ? 'an array' : typeof json}`);
  return json;
}

export interface ExplainedConfig {
  /** the config with every null that stands for a default replaced by the value a run uses. */
  config: RunConfig;
  /** defaults only fixed once the model is loaded, in words (`field: rule`). */
  rules: string[];
}

/**
 * What `zolo config --print` shows: lr, weightDecay and selectBy resolved to the values the run will
 * use (running the printed config gives the same run), and the rules for what depends on the model.
 */
export function explainDefaults(config: RunConfig): ExplainedConfig {
  const adapter = methodAdapter(config.method);
  const defaults = adapter.describeDefaults?.(config.options) ?? {};
  const rules = [...(defaults.rules ?? [])];
  if (config.trainable === null) rules.push(`trainable: ${adapter.choosesTrainable ? 'chosen by the method (its adapters, or none)' : 'every parameter of the model'}`);
  return {
    config: {
      ...config,
      lr: config.lr ?? adapter.defaultLr,
      weightDecay: config.weightDecay ?? defaults.weightDecay ?? null,
      selectBy: resolvedSelectBy(config),
    },
    rules,
  };
}

/** The config file's layer with its `plugins` made absolute against the file's folder. */
function readConfigLayer(file: string): PlainObject {
  const layer = readConfigFile(file);
  if (!Array.isArray(layer.plugins) || !layer.plugins.every((path) => typeof path === 'string')) return layer;
  return { ...layer, plugins: resolvePluginPaths(layer.plugins, pluginBaseDir(file)) };
}

/**
 * Merges the sources and validates; names are checked unless `checkRegistries` is false. The
 * plug-ins are not imported here (that is asynchronous): `resolveRunConfigWithPlugins` does both.
 */
export function resolveRunConfig(sources: ConfigSources, checkRegistries = true): RunConfig {
  let merged: PlainObject = mergeLayers(sources.base ?? {}, sources.configFile ? readConfigLayer(sources.configFile) : {});
  const flagSets: string[] = [];
  for (const [flag, value] of Object.entries(sources.flags ?? {})) {
    if (value === undefined) continue;
    if (flag === 'force') merged = { ...merged, force: Boolean(value) };
    else if (FLAG_PATHS[flag]) flagSets.push(`${FLAG_PATHS[flag]}=${String(value)}`);
  }
  merged = applySets(runConfigSchema, merged, [...flagSets, ...(sources.sets ?? [])]);
  const parsed = parseRunConfig(merged);
  const plugins = [...new Set([...resolvePluginPaths(parsed.plugins), ...resolvePluginPaths(sources.plugins ?? [])])];
  const config = { ...parsed, plugins };
  if (checkRegistries) checkNames(config, knownNames());
  return config;
}

/** resolveRunConfig after importing the config's plug-ins, so the names they register pass the checks. */
export async function resolveRunConfigWithPlugins(sources: ConfigSources): Promise<RunConfig> {
  const config = resolveRunConfig(sources, false);
  await loadPlugins(config.plugins);
  checkNames(config, knownNames());
  return config;
}
