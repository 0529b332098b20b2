/**
 * Errors a user can act on, and the validators every room uses to raise them. Every message names
 * the field or op, the value received and what is allowed, e.g.
 * `ConfigError: estimator.queries must be a positive integer, got -3`.
 */
export class ZoloError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad value in a config, CLI flag or function argument given by a user. */
export class ConfigError extends ZoloError {}

/** An op called with shapes or values it cannot take (a bug in the caller, or bad user data). */
export class ShapeError extends ZoloError {}

/** A file that is missing, truncated or not what it claims to be. */
export class FormatError extends ZoloError {}

/**
 * Training produced a non-finite value (a loss, a gradient, an optimizer statistic); carries the
 * step so the caller can report it. The runner marks such a run diverged instead of aborting.
 */
export class DivergenceError extends ZoloError {
  constructor(
    message: string,
    readonly step: number,
  ) {
    super(message);
  }
}

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(describeValue).join(', ')}]`;
  return String(value);
}

/** Throws a ConfigError unless `value` is one of `allowed`. */
export function assertOneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${field} must be one of ${allowed.join(', ')}, got ${describeValue(value)}`);
  }
  return value as T;
}

export function assertFinite(field: string, value: number): number {
  if (!Number.isFinite(value)) throw new ConfigError(`${field} must be a finite number, got ${value}`);
  return value;
}

export function assertPositive(field: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new ConfigError(`${field} must be a positive finite number, got ${describeValue(value)}`);
  return value;
}

export function assertNonNegative(field: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new ConfigError(`${field} must be a finite number ≥ 0, got ${describeValue(value)}`);
  return value;
}

export function assertPositiveInteger(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(`${field} must be a positive integer, got ${describeValue(value)}`);
  }
  return value;
}

/** A decay coefficient: in [0, 1), or [0, 1] with `allowOne`. */
export function assertProbability(field: string, value: number, allowOne = false): number {
  if (!(value >= 0 && (allowOne ? value <= 1 : value < 1))) {
    throw new ConfigError(`${field} must be in [0, ${allowOne ? '1]' : '1)'}, got ${describeValue(value)}`);
  }
  return value;
}

/** Throws unless every key of `value` (an object at `path`) is in `allowed`. */
export function checkKnownKeys(path: string, value: Readonly<Record<string, unknown>>, allowed: readonly string[]): void {
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new ConfigError(`unknown key ${unknown.map((key) => `"${path}.${key}"`).join(', ')}; allowed in ${path}: ${allowed.join(', ')}`);
  }
}
