/**
 * `--set key=value` and config layering. A key is a dotted path into the run config
 * (`budget.forwardPasses=4000`, `options.epsilon=1e-3`); the value is typed by the schema at that
 * path: numbers parse as numbers, booleans as true/false, `null` as null where allowed, strings stay
 * strings. Under pass-through records (`options.*`, `taskOptions.*`) the value is read as JSON when
 * it parses (numbers, booleans, arrays) and kept as a string otherwise.
 */
import type { z } from 'zod';
import { ConfigError, describeValue } from '../errors.ts';
import { kindOf, objectKeys, schemaAt, unwrap } from './schemaWalk.ts';

export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseJsonOr(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/** Types `raw` by the schema at `path`; unknown paths are errors listing the allowed keys. */
export function typeValue(root: z.ZodType, path: readonly string[], raw: string): unknown {
  for (let depth = 1; depth <= path.length; depth++) {
    const schema = schemaAt(root, path.slice(0, depth));
    if (schema) continue;
    const parentPath = path.slice(0, depth - 1);
    const allowed = objectKeys(schemaAt(root, parentPath) ?? root) ?? [];
    throw new ConfigError(`--set ${path.join('.')}: unknown key "${path.slice(0, depth).join('.')}"; allowed: ${allowed.join(', ')}`);
  }
  const schema = schemaAt(root, path)!;
  const { nullable } = unwrap(schema);
  if (nullable && raw === 'null') return null;
  switch (kindOf(schema)) {
    case 'number': {
      const value = Number(raw);
      if (raw.trim() === '' || Number.isNaN(value)) {
        throw new ConfigError(`--set ${path.join('.')} must be a number, got ${describeValue(raw)}`);
      }
      return value;
    }
    case 'boolean':
      if (raw === 'true') return true;
      if (raw === 'false') return false;
      throw new ConfigError(`--set ${path.join('.')} must be true or false, got ${describeValue(raw)}`);
    case 'string':
    case 'enum':
      return raw;
    default:
      return parseJsonOr(raw);
  }
}

/** Splits `a.b=value` at the first `=`; the key must be a non-empty dotted path. */
export function splitAssignment(assignment: string): { path: string[]; raw: string } {
  const at = assignment.indexOf('=');
  const key = at < 0 ? '' : assignment.slice(0, at);
  const path = key.split('.');
  if (at < 0 || path.some((part) => part === '')) {
    throw new ConfigError(`--set must look like key=value with a dotted key (e.g. options.epsilon=1e-3), got ${describeValue(assignment)}`);
  }
  return { path, raw: assignment.slice(at + 1) };
}

/** Sets `value` at `path` in a copy of `target`, creating objects on the way. */
export function setAtPath(target: PlainObject, path: readonly string[], value: unknown): PlainObject {
  const [head, ...rest] = path;
  const copy = { ...target };
  if (rest.length === 0) copy[head!] = value;
  else copy[head!] = setAtPath(isPlainObject(target[head!]) ? (target[head!] as PlainObject) : {}, rest, value);
  return copy;
}

/** Deep merge of plain objects; later layers win, arrays and scalars replace. */
export function mergeLayers(...layers: readonly PlainObject[]): PlainObject {
  let merged: PlainObject = {};
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      if (value === undefined) continue;
      merged = {
        ...merged,
        [key]: isPlainObject(value) && isPlainObject(merged[key]) ? mergeLayers(merged[key] as PlainObject, value) : value,
      };
    }
  }
  return merged;
}

/** Applies every `--set` in order to `base`. */
export function applySets(root: z.ZodType, base: PlainObject, assignments: readonly string[]): PlainObject {
  let result = base;
  for (const assignment of assignments) {
    const { path, raw } = splitAssignment(assignment);
    result = setAtPath(result, path, typeValue(root, path, raw));
  }
  return result;
}
