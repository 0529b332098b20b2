/**
 * Option checks shared by the parts. Each throws a ConfigError that names the field, the value and
 * what is allowed (`ConfigError: estimator.eps must be a positive finite number, got 0`).
 */
import { ConfigError, describeValue } from '../kernels/errors.ts';
import type { OptionSpec } from './types.ts';

type Check = OptionSpec['check'];

export const positive: Check = (field, value) => {
  if (!(Number.isFinite(value) && value > 0)) throw new ConfigError(`${field} must be a positive finite number, got ${describeValue(value)}`);
};

export const nonNegative: Check = (field, value) => {
  if (!(Number.isFinite(value) && value >= 0)) throw new ConfigError(`${field} must be a finite number ≥ 0, got ${describeValue(value)}`);
};

export const positiveInteger: Check = (field, value) => {
  if (!(Number.isInteger(value) && value >= 1)) throw new ConfigError(`${field} must be a positive integer, got ${describeValue(value)}`);
};

/** momentum-type coefficients: 0 ≤ β < 1. */
export const coefficient: Check = (field, value) => {
  if (!(Number.isFinite(value) && value >= 0 && value < 1)) throw new ConfigError(`${field} must be in [0, 1), got ${describeValue(value)}`);
};

export function option(defaultValue: number, check: Check, description: string, source: string): OptionSpec {
  return { default: defaultValue, check, description, source };
}
