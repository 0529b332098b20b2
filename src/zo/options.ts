/**
 * Estimator options: the checks parts attach to their options (`OptionSpec.check`, over the shared
 * validators of src/errors.ts; each throws a ConfigError naming the field, the value and what is
 * allowed, `ConfigError: estimator.eps must be a positive finite number, got 0`), the options
 * common to every estimator, and the one namespace a composition's options live in.
 */
import { assertNonNegative, assertPositive, assertPositiveInteger, assertProbability, ConfigError } from '../errors.ts';
import type { CommonOptionName, OptionSpec, Part, PartKind } from './types.ts';

type Check = OptionSpec['check'];

export const positive: Check = (field, value) => {
  assertPositive(field, value);
};

export const nonNegative: Check = (field, value) => {
  assertNonNegative(field, value);
};

export const positiveInteger: Check = (field, value) => {
  assertPositiveInteger(field, value);
};

/** momentum-type coefficients: 0 ≤ β < 1. */
export const coefficient: Check = (field, value) => {
  assertProbability(field, value);
};

export function option(defaultValue: number, check: Check, description: string, source: string): OptionSpec {
  return { default: defaultValue, check, description, source };
}

export const PART_KINDS: readonly PartKind[] = ['perturbation', 'schedule', 'difference', 'optimizer'];

/** Options every estimator has, whatever its parts (the engine reads ε; η and λ reach every part). */
export const COMMON_OPTIONS: Readonly<Record<CommonOptionName, OptionSpec>> = {
  lr: option(1e-4, nonNegative, 'η, learning rate (constant unless the caller passes one per step)', 'MeZO: chosen on validation by benchmarks/suites/fidelity-lr.json (learns the e-mail task from checkpoints/tiny); the paper\'s OPT grid {1e-6, 1e-7} [P Table 16] was tuned for 350M–66B models'),
  eps: option(1e-3, positive, 'ε, perturbation scale', 'MeZO Tables 15–16, full-parameter [P]'),
  weightDecay: option(0, nonNegative, 'λ, coupled L2 decay on tensors with ndim ≥ 2', 'MeZO grids use λ = 0 [P Tables 15–16]'),
};

/**
 * All option specs of a composition: the common ones plus each part's, in one namespace. A part
 * that redeclares a common option, or two parts declaring the same name, would make a flat
 * `options.<name>` ambiguous (one silently overriding the other): that is a ConfigError naming both.
 */
export function optionSpecs(parts: Readonly<Record<PartKind, Pick<Part, 'name' | 'options'>>>): Record<string, OptionSpec> {
  const specs: Record<string, OptionSpec> = { ...COMMON_OPTIONS };
  const owner = new Map<string, string>(Object.keys(COMMON_OPTIONS).map((name) => [name, 'the estimator (a common option)']));
  for (const kind of PART_KINDS) {
    const part = parts[kind];
    for (const [name, spec] of Object.entries<OptionSpec>(part.options)) {
      const taken = owner.get(name);
      if (taken !== undefined) {
        throw new ConfigError(`option "${name}" of ${kind} ${part.name} is already declared by ${taken}; parts of one estimator need distinct option names`);
      }
      owner.set(name, `${kind} ${part.name}`);
      specs[name] = spec;
    }
  }
  return specs;
}
