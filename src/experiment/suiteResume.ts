/**
 * What `zolo suite FILE --resume` continues: the suite file as it is now, provided it does not
 * rewrite history. Researchers extend a grid where its best value sat on an edge, add seeds or
 * entries, and resume; the saved suite.json alone would silently ignore those edits. A run that has
 * started (its folder has config.json) must keep its configuration and stay in the suite, since its
 * results already depend on it; runs not yet started may be added, changed or dropped freely.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from '../errors.ts';
import { FILES } from './runner.ts';
import type { PlannedRun } from './suiteConfig.ts';

export interface SuiteChange {
  added: string[];
  dropped: string[];
}

/** The run ids `current` adds to and drops from `saved`; throws if a started run changed or went missing. */
export function reconcileSuitePlans(saved: readonly PlannedRun[], current: readonly PlannedRun[], file: string): SuiteChange {
  const now = new Map(current.map((run) => [run.id, run]));
  const before = new Set(saved.map((run) => run.id));
  const dropped: string[] = [];
  for (const run of saved) {
    const started = existsSync(join(run.config.out!, FILES.config));
    const next = now.get(run.id);
    if (!next) {
      if (started) throw new ConfigError(`--resume: ${file} no longer has run "${run.id}", which has already started; restore its entry or start a fresh suite folder`);
      dropped.push(run.id);
      continue;
    }
    if (!started || isDeepStrictEqual(run.config, next.config)) continue;
    const fields = Object.keys({ ...run.config, ...next.config }).filter(
      (key) => !isDeepStrictEqual(run.config[key as keyof typeof run.config], next.config[key as keyof typeof next.config]),
    );
    throw new ConfigError(`--resume: run "${run.id}" has started with a different ${fields.join(', ')} than ${file} gives now; restore the entry, give the changed run a new label, or start a fresh suite folder`);
  }
  return { added: current.filter((run) => !before.has(run.id)).map((run) => run.id), dropped };
}
