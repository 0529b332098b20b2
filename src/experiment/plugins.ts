/**
 * Plug-in modules: JavaScript (or TypeScript under a loader) files that register estimator parts and
 * presets, methods or workloads when imported. `zolo run --plugin FILE`, a run config's `plugins` and
 * a suite's `base.plugins` import them before the config is validated, so the names they register
 * are known to the name checks. Paths are made absolute where they are read (relative to the config
 * or suite file, else the working directory), so a saved run config names the same modules from any
 * working directory.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.ts';

/** `paths` made absolute against `baseDir` (a config file's folder, else the working directory). */
export function resolvePluginPaths(paths: readonly string[], baseDir: string = process.cwd()): string[] {
  return paths.map((path) => resolve(baseDir, path));
}

/** The folder relative `plugins` entries of the JSON file at `file` are resolved against. */
export function pluginBaseDir(file: string): string {
  return dirname(resolve(file));
}

/**
 * Imports each module (relative paths against the working directory) once (the module cache makes a repeated import a no-op, so loading the same
 * plug-in for every run of a suite registers its names once). A missing file is a ConfigError
 * naming the field and the path; an error thrown while the module registers (a duplicate name)
 * propagates with its own message.
 */
export async function loadPlugins(paths: readonly string[], field = 'plugins'): Promise<void> {
  for (const path of resolvePluginPaths(paths)) {
    if (!existsSync(path)) throw new ConfigError(`${field}: plug-in module ${path} does not exist`);
    await import(pathToFileURL(path).href);
  }
}
