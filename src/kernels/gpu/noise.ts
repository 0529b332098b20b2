/**
 * Host-side counter noise for the gpu backend. gpu.js kernels take their scalar arguments as f32,
 * which cannot carry a 32-bit seed exactly (24-bit mantissa), and compiling the seed in as a
 * constant would recompile a kernel every ZO step; so the noise is generated here, on the host
 * arrays the webasm/cpu modes already use.
 *
 * The generator is src/kernels/rng.ts's Threefry-2x32-20 with key (seed, stream), counter
 * (index >> 1, 0), inlined without per-block allocation. Contract: bit-identical uniforms to
 * rng.ts, and normals computed by the same float64 expressions as the cpu backend, so the f32
 * results match the cpu backend bitwise (tested in test/kernels/rng.test.ts).
 */
import { bitsToUniform } from '../rng.ts';

const KEY_PARITY = 0x1bd11bda;
const TWO_PI = 2 * Math.PI;

/** Threefry-2x32-20 of counter (c0, 0) with key (k0, k1); the words land in `out`. */
function threefryBlock(c0: number, k0: number, k1: number, out: Uint32Array): void {
  const k2 = (KEY_PARITY ^ k0 ^ k1) >>> 0;
  let x0 = (c0 + k0) | 0;
  let x1 = k1 | 0;
  // Five groups of four rounds (rotations 13 15 26 6 | 17 29 16 24), key injection after each.
  for (let s = 1; s <= 5; s++) {
    const odd = (s & 1) === 1;
    const r0 = odd ? 13 : 17;
    const r1 = odd ? 15 : 29;
    const r2 = odd ? 26 : 16;
    const r3 = odd ? 6 : 24;
    x0 = (x0 + x1) | 0; x1 = ((x1 << r0) | (x1 >>> (32 - r0))) ^ x0;
    x0 = (x0 + x1) | 0; x1 = ((x1 << r1) | (x1 >>> (32 - r1))) ^ x0;
    x0 = (x0 + x1) | 0; x1 = ((x1 << r2) | (x1 >>> (32 - r2))) ^ x0;
    x0 = (x0 + x1) | 0; x1 = ((x1 << r3) | (x1 >>> (32 - r3))) ^ x0;
    const m = s % 3;
    const injectA = m === 0 ? k0 : m === 1 ? k1 : k2;
    const injectB = m === 0 ? k1 : m === 1 ? k2 : k0;
    x0 = (x0 + injectA) | 0;
    x1 = (x1 + injectB + s) | 0;
  }
  out[0] = x0;
  out[1] = x1;
}

/** θ[i] ← decay·θ[i] + scale·z[i], z[i] = normal(seed, stream, i); same arithmetic as CpuBackend. */
export function perturbHost(param: Float32Array, seed: number, stream: number, scale: number, decay: number): void {
  const block = new Uint32Array(2);
  const k0 = seed >>> 0;
  const k1 = stream >>> 0;
  for (let i = 0; i < param.length; i += 2) {
    threefryBlock(i / 2, k0, k1, block);
    const radius = Math.sqrt(-2 * Math.log(bitsToUniform(block[0]!)));
    const angle = TWO_PI * bitsToUniform(block[1]!);
    param[i] = decay * param[i]! + scale * radius * Math.cos(angle);
    if (i + 1 < param.length) param[i + 1] = decay * param[i + 1]! + scale * radius * Math.sin(angle);
  }
}

/** out[j] = normal(seed, stream, offset + j). */
export function fillNormalHost(out: Float32Array, seed: number, stream: number, offset: number): void {
  const block = new Uint32Array(2);
  const k0 = seed >>> 0;
  const k1 = stream >>> 0;
  let lastCounter = -1;
  let radius = 0;
  let angle = 0;
  for (let j = 0; j < out.length; j++) {
    const index = offset + j;
    const counter = Math.floor(index / 2);
    if (counter !== lastCounter) {
      threefryBlock(counter, k0, k1, block);
      radius = Math.sqrt(-2 * Math.log(bitsToUniform(block[0]!)));
      angle = TWO_PI * bitsToUniform(block[1]!);
      lastCounter = counter;
    }
    out[j] = (index & 1) === 0 ? radius * Math.cos(angle) : radius * Math.sin(angle);
  }
}

/** The raw 32-bit words of elements offset … offset + count − 1. */
export function randomBitsHost(seed: number, stream: number, offset: number, count: number): Uint32Array {
  const out = new Uint32Array(count);
  const block = new Uint32Array(2);
  for (let j = 0; j < count; j++) {
    const index = offset + j;
    threefryBlock(Math.floor(index / 2), seed >>> 0, stream >>> 0, block);
    out[j] = block[index & 1]!;
  }
  return out;
}
