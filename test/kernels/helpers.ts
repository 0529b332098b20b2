/**
 * Shared pieces of the kernel tests: a seeded generator for test data, dimension arbitraries that
 * favour 1, primes and non-multiples of 4, and a closeness check with a stated error bound.
 */
import fc from 'fast-check';
import { afterAll, beforeAll } from 'vitest';
import type { Backend, DeviceBuffer } from '../../src/kernels/backend.ts';
import { createBackend, registeredBackends } from '../../src/kernels/index.ts';
import { createWasmBackend, type WasmBackend } from '../../src/kernels/wasm/index.ts';

/** f32 unit roundoff u = 2⁻²⁴. */
export const U32 = 2 ** -24;

/** mulberry32: small, fast, good enough to fill test tensors from one integer seed. */
export function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values uniform in [lo, hi). */
export function uniform(random: () => number, n: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * random();
  return out;
}

/** Dimensions that stress edge handling: 1, primes, non-multiples of 4, and anything up to `max`. */
export function dim(max = 40): fc.Arbitrary<number> {
  return fc.oneof(fc.constantFrom(1, 2, 3, 5, 7, 13, 17, 31).filter((d) => d <= max), fc.integer({ min: 1, max }));
}

/**
 * Error bound |got − want| ≤ factor · L · u · scale_i: the Higham γ_L bound for an f32 computation
 * whose result accumulates L rounded terms of total magnitude scale_i. `factor` is the backend's
 * tolerance (below), L and scale are chosen per op by the test.
 */
export function expectClose(
  label: string, got: Float32Array, want: Float32Array, factor: number, terms: number,
  scale: ArrayLike<number> | number,
): void {
  if (got.length !== want.length) throw new Error(`${label}: length ${got.length}, expected ${want.length}`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (g === w) continue;
    const s = typeof scale === 'number' ? scale : scale[i]!;
    const bound = factor * terms * U32 * s + 1e-30;
    if (!(Math.abs(g - w) <= bound)) {
      throw new Error(`${label}: element ${i} is ${g}, cpu gives ${w} (|diff| ${Math.abs(g - w)} > bound ${bound})`);
    }
  }
}

/**
 * Tolerance factor per backend, in the units of expectClose. The gpu backend computes in f32 where
 * cpu accumulates in f64; a factor of 4 over γ_L covers the f32 rounding of inputs, products and the
 * final store. Backends not listed (added later) get 8 until measured.
 */
export const TOLERANCE_FACTOR: Record<string, number> = { cpu: 0, gpu: 4 };
export const DEFAULT_TOLERANCE_FACTOR = 8;

export interface Target {
  /** label, e.g. 'gpu' or 'gpu:async'. */
  label: string;
  name: string;
  options: { mode?: string };
  factor: number;
}

/**
 * Every registered backend with default options, plus the gpu backend's asynchronous mode (its
 * queue is a separate code path). New backends are picked up without edits.
 */
export function targets(): Target[] {
  const list: Target[] = registeredBackends().map((name) => ({
    label: name, name, options: {}, factor: TOLERANCE_FACTOR[name] ?? DEFAULT_TOLERANCE_FACTOR,
  }));
  if (registeredBackends().includes('gpu')) list.push({ label: 'gpu:async', name: 'gpu', options: { mode: 'async' }, factor: TOLERANCE_FACTOR.gpu! });
  return list;
}

export async function open(target: Target): Promise<Backend> {
  return createBackend(target.name, target.options);
}

export function put(backend: Backend, values: Float32Array): DeviceBuffer {
  return backend.upload(values);
}

export function abs(values: Float32Array): Float32Array {
  return values.map(Math.abs);
}

/** Pearson sample correlation of two equally long samples. */
export function correlation(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** A 1-thread and a 2-thread wasm backend for a test file: created before its tests, disposed after. */
export function wasmPair(): { one: WasmBackend; two: WasmBackend } {
  const pair = {} as { one: WasmBackend; two: WasmBackend };
  beforeAll(async () => {
    pair.one = await createWasmBackend({ threads: 1 });
    pair.two = await createWasmBackend({ threads: 2 });
  });
  afterAll(() => {
    pair.one.dispose();
    pair.two.dispose();
  });
  return pair;
}
