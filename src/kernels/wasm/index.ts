import { availableParallelism } from 'node:os';
import type { BackendOptions } from '../backend.ts';
import { assertPositiveInteger } from '../../errors.ts';
import { WasmBackend } from './backend.ts';

export { WasmBackend } from './backend.ts';

/**
 * Factory for the registry. Threads (including the calling one): `options.threads`, else the
 * ZOLO_THREADS environment variable, else every core (os.availableParallelism()).
 */
export async function createWasmBackend(options: BackendOptions = {}): Promise<WasmBackend> {
  const fromEnv = process.env.ZOLO_THREADS;
  const threads = options.threads ?? (fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : availableParallelism());
  assertPositiveInteger(options.threads === undefined && fromEnv ? 'ZOLO_THREADS' : 'wasm backend threads', threads);
  return WasmBackend.create({ threads });
}
