/**
 * Errors a user can act on. Every message names the field or op, the value received and what is
 * allowed, e.g. `ConfigError: estimator.queries must be a positive integer, got -3`.
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

/** Training produced a non-finite loss; carries the step so the caller can report it. */
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

export function assertPositiveInteger(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new ConfigError(`${field} must be a positive integer, got ${describeValue(value)}`);
  }
  return value;
}
