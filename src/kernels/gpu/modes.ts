/**
 * Which gpu.js mode the `gpu` backend runs in. gpu.js 2.24 offers GL modes (headlessgl in Node,
 * webgl2/webgl in browsers), WebGPU (browser, Promise-returning only), its WebAssembly mode
 * ('webasm': f32x4 SIMD, single-threaded when called synchronously) and its JavaScript 'cpu' mode.
 * 'async' is gpu.js's auto-selection under the Promise contract, which on webasm splits kernels of
 * ≥ 4096 cells over a worker pool.
 *
 * Automatic selection only considers the synchronous modes, best first, because zolo's model code
 * may call `readSync` (which an asynchronous backend cannot honour while work is queued). The
 * asynchronous modes are opt-in: BackendOptions.mode or ZOLO_GPU_MODE.
 */
import gpujs from 'gpu.js';
import { ConfigError } from '../../errors.ts';

export const GPU_MODES = ['webgpu', 'headlessgl', 'webgl2', 'webgl', 'webasm', 'async', 'cpu'] as const;
export type GpuMode = (typeof GPU_MODES)[number];

/** Auto-selection order (synchronous modes only, fastest kind first). */
export const AUTO_ORDER: readonly GpuMode[] = ['headlessgl', 'webgl2', 'webgl', 'webasm', 'cpu'];

/** Modes whose kernel calls return Promises; the backend queues its ops behind them. */
export const ASYNC_MODES: ReadonlySet<GpuMode> = new Set<GpuMode>(['webgpu', 'async']);

export function parseGpuMode(value: string, source: string): GpuMode {
  if (!(GPU_MODES as readonly string[]).includes(value)) {
    throw new ConfigError(`${source} must be one of ${GPU_MODES.join(', ')}, got "${value}"`);
  }
  return value as GpuMode;
}

/** Whether gpu.js can run `mode` in this process (WebGPU asks for an adapter, hence async). */
export async function isModeAvailable(mode: GpuMode): Promise<boolean> {
  const { GPU } = gpujs;
  switch (mode) {
    case 'webgpu':
      try {
        return await GPU.isWebGPUAvailable();
      } catch {
        return false;
      }
    case 'headlessgl':
      return GPU.isHeadlessGLSupported;
    case 'webgl2':
      return GPU.isWebGL2Supported;
    case 'webgl':
      return GPU.isWebGLSupported;
    case 'webasm':
      return GPU.isWebAssemblySupported;
    case 'async':
      return GPU.isWebAssemblySupported || GPU.isHeadlessGLSupported || GPU.isWebGL2Supported || GPU.isWebGLSupported;
    case 'cpu':
      return true;
  }
}

/** The mode asked for: the option wins over ZOLO_GPU_MODE; undefined means automatic. */
export function requestedMode(optionMode: string | undefined): GpuMode | undefined {
  if (optionMode !== undefined) return parseGpuMode(optionMode, 'gpu backend option mode');
  const fromEnv = process.env.ZOLO_GPU_MODE;
  if (fromEnv) return parseGpuMode(fromEnv, 'ZOLO_GPU_MODE');
  return undefined;
}

/** The modes to try, in order: the requested one first (if any), then the automatic chain. */
export function candidateModes(requested: GpuMode | undefined): GpuMode[] {
  const chain = [...AUTO_ORDER];
  return requested ? [requested, ...chain.filter((mode) => mode !== requested)] : chain;
}
