/**
 * Plug-in modules: JavaScript (or TypeScript under a loader) files that register estimator parts and
 * presets, methods or workloads when imported. `zolo run --plugin FILE`, a run config's `plugins` and
 * a suite's `base.plugins` import them before the config is validated, so the names they register
 * are known to the name checks. Paths are made absolute where they are read (relative to the config
 * or suite file, else the working directory). The files zolo writes (a run's config.json, a suite's
 * suite.json and results.json) name them relative to their own folder instead, so a run folder or
 * committed results carry no machine paths and still find the modules when moved with the checkout.
 *
 * A plug-in imports `zolo` by name. Its registrations only count if that name resolves to the very
 * modules running the command (a second copy of zolo has registries of its own), so before the first
 * plug-in is imported the bare specifiers of zolo's `exports` map are pinned to the running copy: in
 * the repository that is src/ under tsx, in an installed package dist/. A plug-in therefore works
 * from a clone without a build, from a linked (`file:`) install, and beside a nested copy of zolo.
 */
import { existsSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.ts';

/** `paths` made absolute against `baseDir` (a config file's folder, else the working directory). */
export function resolvePluginPaths(paths: readonly string[], baseDir: string = process.cwd()): string[] {
  return paths.map((path) => resolve(baseDir, path));
}

/** Absolute `paths` written relative to `dir`, the folder of the file that records them. */
export function portablePluginPaths(paths: readonly string[], dir: string): string[] {
  return paths.map((path) => relative(resolve(dir), path));
}

/** The folder relative `plugins` entries of the JSON file at `file` are resolved against. */
export function pluginBaseDir(file: string): string {
  return dirname(resolve(file));
}

interface PackageJson {
  name: string;
  exports: Record<string, string | { default: string }>;
}

/**
 * Each bare specifier the package exports (`zolo`, `zolo/assumptions`, …) mapped to the file URL of
 * the running copy: the exports' dist/*.js targets, or their src/*.ts sources when this module runs
 * from src/ (a checkout under tsx, where dist/ may not exist).
 */
export function runningZoloEntries(moduleUrl: string = import.meta.url): Record<string, string> {
  const root = new URL('../../', moduleUrl);
  const { name, exports } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as PackageJson;
  const fromSource = moduleUrl.endsWith('.ts');
  const entries: Record<string, string> = {};
  for (const [subpath, target] of Object.entries(exports)) {
    const file = typeof target === 'string' ? target : target.default;
    const running = fromSource ? file.replace(/^\.\/dist\/(.*)\.js$/, './src/$1.ts') : file;
    entries[name + subpath.slice(1)] = new URL(running, root).href;
  }
  return entries;
}

// The hook runs on Node's module-loader thread, which has no TypeScript loader in every setting zolo
// runs in (tests, tsx, an installed dist), so it is plain JavaScript passed as a data: URL.
// `module.register` arrived in Node 20.6, hence package.json's engines.
const PIN_SPECIFIERS_HOOK = `let entries = {};
export function initialize(data) { entries = data; }
export function resolve(specifier, context, next) {
  return next(Object.hasOwn(entries, specifier) ? entries[specifier] : specifier, context);
}`;

let specifiersPinned = false;

function pinZoloSpecifiers(): void {
  if (specifiersPinned) return;
  specifiersPinned = true;
  register(`data:text/javascript,${encodeURIComponent(PIN_SPECIFIERS_HOOK)}`, { data: runningZoloEntries() });
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
    pinZoloSpecifiers();
    await import(pathToFileURL(path).href);
  }
}
