/**
 * Peak-FLOP/s probe for the wasm backend: the best SIMD loop the kernels can issue (wat.ts `peak`:
 * independent f32x4 relaxed_madd chains where the engine has relaxed SIMD, else multiply and add
 * chains), on 1 thread and on N threads.
 * The matmul figures of `npm run bench:step` are reported as a fraction of these.
 *
 *   npx tsx benchmarks/peak-flops.ts [--threads N]
 */
import { availableParallelism } from 'node:os';
import { WasmBackend } from '../src/kernels/wasm/index.ts';
import { peakFlopsPerIter } from '../src/kernels/wasm/wat.ts';

export interface PeakFlops {
  threads: number;
  /** best of `repeats` runs, GFLOP/s. */
  singleThread: number;
  allThreads: number;
}

/** Best-of-`repeats` GFLOP/s of the probe on one thread and on all of the backend's threads. */
export function measurePeak(backend: WasmBackend, repeats = 7, iters = 8_388_608): PeakFlops {
  const best = (parallel: boolean): number => {
    backend.peakProbe(iters / 8, parallel);
    let top = 0;
    for (let r = 0; r < repeats; r++) {
      const start = performance.now();
      backend.peakProbe(iters, parallel);
      const seconds = (performance.now() - start) / 1000;
      top = Math.max(top, (iters * peakFlopsPerIter(backend.fma)) / seconds / 1e9);
    }
    return top;
  };
  return { threads: backend.threads, singleThread: best(false), allThreads: best(true) };
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--threads');
  const threads = at > 0 ? Number(process.argv[at + 1]) : availableParallelism();
  const backend = await WasmBackend.create({ threads });
  try {
    const peak = measurePeak(backend);
    console.log(`wasm SIMD${backend.fma ? ' FMA' : ' mul+add'} peak: ${peak.singleThread.toFixed(1)} GFLOP/s on 1 thread, ${peak.allThreads.toFixed(1)} GFLOP/s on ${peak.threads} threads`);
  } finally {
    backend.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
