/**
 * Name → part and name → preset. Built-in parts and presets register themselves from
 * src/zo/builtins.ts; a new estimator registers its part(s) and preset the same way (see
 * docs/estimators.md, "Add a new estimator in an afternoon"). Registering an existing name is a
 * ConfigError, so two plug-ins cannot silently shadow each other.
 */
import { ConfigError, describeValue } from '../errors.ts';
import { COMMON_OPTIONS, optionSpecs } from './options.ts';
import type { Part, PartKind, Preset } from './types.ts';

const parts: Record<PartKind, Map<string, Part>> = {
  perturbation: new Map(),
  schedule: new Map(),
  difference: new Map(),
  optimizer: new Map(),
};
const presets = new Map<string, Preset>();

export function registerPart(part: Part): void {
  const table = parts[part.kind];
  if (table.has(part.name)) throw new ConfigError(`a ${part.kind} named "${part.name}" is already registered`);
  const common = Object.keys(part.options).filter((name) => name in COMMON_OPTIONS);
  if (common.length > 0) {
    throw new ConfigError(`${part.kind} ${part.name} declares ${common.map((name) => `"${name}"`).join(', ')}, an option every estimator already has; read it from ctx.options instead`);
  }
  table.set(part.name, part);
}

export function registerPreset(preset: Preset): void {
  if (presets.has(preset.name)) throw new ConfigError(`an estimator preset named "${preset.name}" is already registered`);
  const parts = {
    perturbation: getPart('perturbation', preset.parts.perturbation, `preset ${preset.name}: perturbation`),
    schedule: getPart('schedule', preset.parts.schedule, `preset ${preset.name}: schedule`),
    difference: getPart('difference', preset.parts.difference, `preset ${preset.name}: difference`),
    optimizer: getPart('optimizer', preset.parts.optimizer, `preset ${preset.name}: optimizer`),
  };
  // the composition's option names must not collide (a ConfigError naming both parts)
  optionSpecs(parts);
  presets.set(preset.name, preset);
}

export function getPart<K extends PartKind>(kind: K, name: string, field: string = `estimator.${kind}`): Extract<Part, { kind: K }> {
  const part = parts[kind].get(name);
  if (!part) throw new ConfigError(`${field} must be one of ${[...parts[kind].keys()].join(', ')}, got ${describeValue(name)}`);
  return part as Extract<Part, { kind: K }>;
}

export function getPreset(name: string): Preset {
  const preset = presets.get(name);
  if (!preset) throw new ConfigError(`estimator method must be one of ${[...presets.keys()].join(', ')}, got ${describeValue(name)}`);
  return preset;
}

export function listPresets(): Preset[] {
  return [...presets.values()];
}

export function listParts(kind: PartKind): Part[] {
  return [...parts[kind].values()];
}
