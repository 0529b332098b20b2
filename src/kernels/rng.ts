/**
 * Counter-based random numbers: Threefry-2x32 with 20 rounds (Salmon et al., "Parallel random
 * numbers: as easy as 1, 2, 3", SC'11; constants of the Random123 library).
 *
 * Element `index` of the stream (seed, stream) is a pure function of those three integers, so the
 * noise z of a ZO perturbation can be regenerated on any backend, in any order, on any number of
 * threads, and never needs to be stored. Key = (seed, stream); counter = (index >> 1, 0); the two
 * output words of one block give the two uniforms of one Box–Muller pair, so elements 2j and 2j+1
 * share a block (cos and sin branch). ZO noise does not pick (seed, stream) by hand: its key is
 * derived from (seed, tensor, purpose name) by `noiseKey` (noiseStreams.ts), so streams cannot collide.
 *
 * Uniform bits are identical on every backend (integer arithmetic only). Normals go through
 * log/cos/sin, so backends agree to float rounding, not bitwise.
 */

const ROTATIONS = [13, 15, 26, 6, 17, 29, 16, 24] as const;
const KEY_PARITY = 0x1bd11bda;

/** Threefry-2x32-20 of counter (c0, c1) under key (k0, k1); writes the two words to `out`. */
export function threefry2x32(c0: number, c1: number, k0: number, k1: number, out: Uint32Array | number[]): void {
  const ks0 = k0 >>> 0;
  const ks1 = k1 >>> 0;
  const ks2 = (KEY_PARITY ^ ks0 ^ ks1) >>> 0;
  const ks = [ks0, ks1, ks2];
  let x0 = (c0 + ks0) >>> 0;
  let x1 = (c1 + ks1) >>> 0;
  for (let round = 0; round < 20; round++) {
    x0 = (x0 + x1) >>> 0;
    const r = ROTATIONS[round % 8]!;
    x1 = ((x1 << r) | (x1 >>> (32 - r))) >>> 0;
    x1 = (x1 ^ x0) >>> 0;
    if (round % 4 === 3) {
      const s = (round + 1) / 4;
      x0 = (x0 + ks[s % 3]!) >>> 0;
      x1 = (x1 + ks[(s + 1) % 3]! + s) >>> 0;
    }
  }
  out[0] = x0;
  out[1] = x1;
}

/** Maps 32 random bits to a uniform in (0, 1): the top 24 bits, centred, so 0 and 1 never occur. */
export function bitsToUniform(bits: number): number {
  return ((bits >>> 8) + 0.5) * 5.9604644775390625e-8; // 2^-24
}

const TWO_PI = 2 * Math.PI;

/** Box–Muller on two uniforms: the even element takes the cosine branch, the odd one the sine. */
export function boxMuller(u1: number, u2: number, odd: boolean): number {
  const radius = Math.sqrt(-2 * Math.log(u1));
  const angle = TWO_PI * u2;
  return odd ? radius * Math.sin(angle) : radius * Math.cos(angle);
}

const block = new Uint32Array(2);

/** The raw 32-bit word for element `index` of stream (seed, stream). */
export function randomBitsAt(seed: number, stream: number, index: number): number {
  threefry2x32(Math.floor(index / 2), 0, seed, stream, block);
  return block[index & 1]!;
}

/** Uniform in (0, 1) for element `index` of stream (seed, stream). */
export function uniformAt(seed: number, stream: number, index: number): number {
  return bitsToUniform(randomBitsAt(seed, stream, index));
}

/** Standard normal for element `index` of stream (seed, stream). */
export function normalAt(seed: number, stream: number, index: number): number {
  threefry2x32(Math.floor(index / 2), 0, seed, stream, block);
  return boxMuller(bitsToUniform(block[0]!), bitsToUniform(block[1]!), (index & 1) === 1);
}

/**
 * Fills `out[j] = normal(seed, stream, offset + j)`. The reference loop every backend must match:
 * one Threefry block per pair of elements.
 */
export function fillNormals(out: Float32Array | Float64Array, seed: number, stream: number, offset = 0): void {
  const n = out.length;
  let j = 0;
  if ((offset & 1) === 1 && n > 0) {
    out[0] = normalAt(seed, stream, offset);
    j = 1;
  }
  for (; j + 1 < n; j += 2) {
    threefry2x32((offset + j) / 2, 0, seed, stream, block);
    const radius = Math.sqrt(-2 * Math.log(bitsToUniform(block[0]!)));
    const angle = TWO_PI * bitsToUniform(block[1]!);
    out[j] = radius * Math.cos(angle);
    out[j + 1] = radius * Math.sin(angle);
  }
  if (j < n) out[j] = normalAt(seed, stream, offset + j);
}

/** Fills `out[j]` with the raw bits of element offset + j. */
export function fillBits(out: Uint32Array, seed: number, stream: number, offset = 0): void {
  for (let j = 0; j < out.length; j++) out[j] = randomBitsAt(seed, stream, offset + j);
}
