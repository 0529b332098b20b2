export type * from './backend.ts';
export { CpuBackend } from './cpu.ts';
export * from './noiseStreams.ts';
export * from './rng.ts';
export { createBackend, defaultBackendName, registerBackend, registeredBackends } from './registry.ts';
import { CpuBackend } from './cpu.ts';
import { createGpuBackend } from './gpu/backend.ts';
import { registerBackend } from './registry.ts';
import { createWasmBackend } from './wasm/index.ts';

registerBackend('cpu', () => new CpuBackend(), 0);
registerBackend('gpu', (options) => createGpuBackend(options), -1);
registerBackend('wasm', (options) => createWasmBackend(options), 10);
