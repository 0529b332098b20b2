/**
 * Backends register a factory by name (tfjs-style); `createBackend` picks one by name, by the
 * ZOLO_BACKEND environment variable, or the default.
 */
import type { Backend, BackendOptions } from './backend.ts';
import { ConfigError } from '../errors.ts';

export type BackendFactory = (options: BackendOptions) => Backend | Promise<Backend>;

interface Registration {
  factory: BackendFactory;
  /** higher wins when no name is given. */
  priority: number;
}

const registrations = new Map<string, Registration>();

export function registerBackend(name: string, factory: BackendFactory, priority = 0): void {
  registrations.set(name, { factory, priority });
}

export function registeredBackends(): string[] {
  return [...registrations.keys()];
}

/** The name used when none is given: ZOLO_BACKEND if set, else the highest-priority registration. */
export function defaultBackendName(): string {
  const fromEnv = process.env.ZOLO_BACKEND;
  if (fromEnv) return fromEnv;
  const best = [...registrations.entries()].sort((a, b) => b[1].priority - a[1].priority)[0];
  return best ? best[0] : 'cpu';
}

export async function createBackend(name: string = defaultBackendName(), options: BackendOptions = {}): Promise<Backend> {
  const registration = registrations.get(name);
  if (!registration) {
    const source = process.env.ZOLO_BACKEND === name ? ' (from ZOLO_BACKEND)' : '';
    throw new ConfigError(`backend must be one of ${registeredBackends().join(', ')}, got "${name}"${source}`);
  }
  return registration.factory(options);
}
