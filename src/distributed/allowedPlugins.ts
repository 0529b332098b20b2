/**
 * Plug-ins are code: a config that names one makes whoever runs the config import it. A run config
 * that arrives over Redis (a suite job, a replica group's config) may therefore name only modules
 * the receiving process was started with (`--plugin`), compared as absolute paths.
 */
import { resolvePluginPaths } from '../experiment/plugins.ts';
import { JobRejected } from './errors.ts';

export function checkPluginsAllowed(requested: readonly string[], allowed: readonly string[], where: string): void {
  const permitted = new Set(resolvePluginPaths(allowed));
  for (const path of requested) {
    if (!permitted.has(path)) {
      throw new JobRejected(`${where}.plugins names ${path}, which this process was not started with; start it with --plugin ${path} to allow that module`);
    }
  }
}
