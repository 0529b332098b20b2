/**
 * Assembles the kernel text (wat.ts) into a WebAssembly.Module with wabt's JavaScript build at
 * load time: no native toolchain and no prebuilt binary, and the source that runs is the source
 * in the repo. Assembly costs ~150 ms once per process; the module is then shared with workers.
 *
 * Relaxed SIMD (for the matmul's fused multiply-add) ships enabled from V8 11.4; Node 20's V8 11.3
 * has it behind --experimental-wasm-relaxed-simd, which we set at run time before compiling. If the
 * engine still refuses the module, the plain-SIMD build (mul + add) is used.
 */
import { setFlagsFromString } from 'node:v8';
import wabtInit from 'wabt';
import { kernelModuleText } from './wat.ts';

/** 4 GiB address space: the wasm32 limit; shared memories must declare a maximum. */
export const MAX_PAGES = 65536;

export interface KernelModule {
  module: WebAssembly.Module;
  /** whether the matmul uses relaxed-SIMD fused multiply-add. */
  fma: boolean;
}

let cached: Promise<KernelModule> | undefined;

export function kernelModule(): Promise<KernelModule> {
  cached ??= (async () => {
    const wabt = await wabtInit();
    const build = (fma: boolean): Promise<WebAssembly.Module> => {
      const features = { simd: true, threads: true, relaxed_simd: fma };
      const parsed = wabt.parseWat('zolo-kernels.wat', kernelModuleText(MAX_PAGES, fma), features);
      try {
        // wabt's typings omit validate's feature argument; without it shared memory is rejected
        (parsed.validate as (f: typeof features) => void)(features);
        return WebAssembly.compile(parsed.toBinary({}).buffer);
      } finally {
        parsed.destroy();
      }
    };
    if (process.env.ZOLO_WASM_FMA !== '0') {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
      try {
        return { module: await build(true), fma: true };
      } catch {
        // engine without relaxed SIMD: fall through to the portable build
      }
    }
    return { module: await build(false), fma: false };
  })();
  return cached;
}
