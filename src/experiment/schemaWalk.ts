/**
 * Walking a zod (v4) schema by a key path: what `--set a.b=v` needs to type its value, and what a
 * validation error needs to say which values are allowed. Only the node kinds the run and suite
 * schemas use are understood (object, record, default, optional, nullable, pipe, union, scalars).
 */
import type { z } from 'zod';

type AnySchema = z.ZodType;

interface Def {
  type: string;
  innerType?: AnySchema;
  shape?: Record<string, AnySchema>;
  valueType?: AnySchema;
  options?: AnySchema[];
  in?: AnySchema;
  element?: AnySchema;
}

function defOf(schema: AnySchema): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

const WRAPPERS = new Set(['default', 'optional', 'nullable', 'prefault', 'readonly', 'catch']);

/** The schema with wrappers peeled off, plus every description met on the way. */
export function unwrap(schema: AnySchema): { core: AnySchema; descriptions: string[]; nullable: boolean } {
  const descriptions: string[] = [];
  let nullable = false;
  let current = schema;
  for (;;) {
    if (current.description) descriptions.push(current.description);
    const def = defOf(current);
    if (def.type === 'nullable') nullable = true;
    if (WRAPPERS.has(def.type) && def.innerType) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return { core: current, descriptions, nullable };
  }
}

export function kindOf(schema: AnySchema): string {
  return defOf(unwrap(schema).core).type;
}

/** The sub-schema at `path`, or undefined when the path leaves the schema (unknown key); paths below an unknown value stay unknown. */
export function schemaAt(root: AnySchema, path: readonly (string | number)[]): AnySchema | undefined {
  let current: AnySchema | undefined = root;
  for (const key of path) {
    if (!current) return undefined;
    const def = defOf(unwrap(current).core);
    if (def.type === 'object' && def.shape) current = def.shape[String(key)];
    else if (def.type === 'record' && def.valueType) current = def.valueType;
    else if (def.type === 'array' && def.element) current = def.element;
    // below a pass-through value (record of unknown) every path is allowed; its owner validates it
    else if (def.type === 'unknown' || def.type === 'any') continue;
    else return undefined;
  }
  return current;
}

/** Keys an object schema allows (for "unknown key" messages). */
export function objectKeys(schema: AnySchema): string[] | undefined {
  const def = defOf(unwrap(schema).core);
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : undefined;
}

/** The human text of what a field allows, from `.describe()` on the field. */
export function allowedText(root: AnySchema, path: readonly (string | number)[]): string | undefined {
  const schema = schemaAt(root, path);
  return schema ? unwrap(schema).descriptions[0] : undefined;
}
