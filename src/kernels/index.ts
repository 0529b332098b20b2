export type * from './backend.ts';
export { CpuBackend } from './cpu.ts';
export * from './errors.ts';
export * from './rng.ts';
export { createBackend, defaultBackendName, registerBackend, registeredBackends } from './registry.ts';
import { CpuBackend } from './cpu.ts';
import { registerBackend } from './registry.ts';

registerBackend('cpu', () => new CpuBackend(), 0);
