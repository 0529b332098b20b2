/**
 * What `--resume` may change. A resumed run continues the saved config (DIR/config.json); flags,
 * `--config` and `--set` given with `--resume` are layered over it. Only the limits may grow — a
 * larger `steps`, `budget.forwardPasses` or `budget.wallSeconds` (null = no limit) extends the run,
 * and the summary records the extension. Any other difference would make the folder hold a run that
 * no single config describes, so it is refused, listing every difference.
 *
 * A run that has finished under limits it cannot exceed is not run again: resuming it is a no-op
 * that says so and appends nothing to metrics.jsonl (resumeLimits.ts, checked by the runner).
 */
import { ConfigError, describeValue } from '../errors.ts';
import type { RunConfig } from './config.ts';
import { isPlainObject, type PlainObject } from './overrides.ts';
import { resolveRunConfig, type ConfigSources } from './resolve.ts';
import { LIMITS, type ResumeExtension } from './resumeLimits.ts';

/** Keys that name where the run is, not what it is. */
const LOCATION_KEYS = ['out', 'force'];

function flatten(value: unknown, prefix = '', into = new Map<string, unknown>()): Map<string, unknown> {
  if (isPlainObject(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
  } else {
    into.set(prefix, value);
  }
  return into;
}

const isRaise = (from: unknown, to: unknown): boolean => to === null ? from !== null : typeof from === 'number' && typeof to === 'number' && to > from;

/** The saved config with the sources layered over it; throws ConfigError listing refused changes. */
export function resolveResume(dir: string, saved: RunConfig, sources: ConfigSources): { config: RunConfig; extensions: ResumeExtension[] } {
  const config = { ...resolveRunConfig({ ...sources, base: saved as unknown as PlainObject }), out: dir };
  const before = flatten(saved);
  const after = flatten(config);
  const extensions: ResumeExtension[] = [];
  const refused: string[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    if (LOCATION_KEYS.includes(key)) continue;
    const from = before.get(key);
    const to = after.get(key);
    if (JSON.stringify(from) === JSON.stringify(to)) continue;
    if ((LIMITS as readonly string[]).includes(key) && isRaise(from, to)) {
      extensions.push({ key: key as ResumeExtension['key'], from: from as number | null, to: to as number | null });
    } else {
      const why = (LIMITS as readonly string[]).includes(key) ? ' (a limit may only grow)' : '';
      const show = (value: unknown): string => (value === undefined ? 'unset' : describeValue(value));
      refused.push(`${key}: ${show(from)} → ${show(to)}${why}`);
    }
  }
  if (refused.length > 0) {
    throw new ConfigError(
      `--resume ${dir}: the run was made with another config; only a larger steps, budget.forwardPasses or budget.wallSeconds may be given. Differences:\n  ${refused.join('\n  ')}\nStart a new run (another --out) to change them.`,
    );
  }
  return { config, extensions };
}

