/**
 * Blockwise 8-bit quantization of optimizer states, as bitsandbytes' 8-bit optimizers do it
 * (Dettmers, Lewis, Shleifer & Zettlemoyer 2022, "8-bit Optimizers via Block-wise Quantization";
 * galore.md §3.1): the state is cut into blocks of 2048 elements; each block stores one float32
 * absmax Nᵦ = max|x| and one byte per element, the index of the code value nearest to x/Nᵦ in a
 * fixed 256-entry "dynamic tree" code (signed for the first moment, unsigned for the second).
 * We port that code exactly (bitsandbytes `create_dynamic_map`, max_exponent_bits 7), rather than
 * linear absmax int8, because a linear code rounds every second-moment entry below Nᵦ/510 to zero
 * and m/(√v + ε) then explodes; the dynamic code resolves values down to ~3e-7·Nᵦ.
 *
 * Error bound (tested): for each element x in a block with absmax Nᵦ,
 *   |x − deq(q(x))| ≤ Nᵦ · h(x/Nᵦ),  h(y) = half the gap between the two codes bracketing y,
 * and globally ≤ Nᵦ · H with H = max half-gap of the code (`maxHalfGap`): H = 0.00703125 for the
 * signed code (64 steps of 0.0140625 over its top decade [0.1, 1]) and 0.003515625 for the
 * unsigned code (128 steps). In decade i below the top the absolute gap shrinks 10× per decade while
 * the step count halves, so the relative error grows toward the smallest codes (docs/galore.md). Non-finite input: NaN/±Inf make absmax non-finite; we
 * throw a DivergenceError (the run is marked diverged), because a silently corrupt state is worse than a stopped run.
 *
 * Bytes: numel (codes) + 4·⌈numel/2048⌉ (absmax) per state (galore.md §6.13).
 */
import { DivergenceError } from '../errors.ts';

/** bitsandbytes create_dynamic_map(signed, max_exponent_bits = 7, total_bits = 8), sorted ascending. */
export function dynamicCode(signed: boolean): Float64Array {
  const maxExponentBits = 7;
  const nonSignBits = 7;
  const data: number[] = [];
  for (let i = 0; i < maxExponentBits; i++) {
    const fractionItems = signed ? 2 ** (i + nonSignBits - maxExponentBits) + 1 : 2 ** (i + nonSignBits - maxExponentBits + 1) + 1;
    const scale = 10 ** (-(maxExponentBits - 1) + i);
    for (let b = 0; b + 1 < fractionItems; b++) {
      // means of consecutive boundaries of linspace(0.1, 1, fractionItems)
      const lo = 0.1 + (0.9 * b) / (fractionItems - 1);
      const hi = 0.1 + (0.9 * (b + 1)) / (fractionItems - 1);
      const mean = (lo + hi) / 2;
      data.push(scale * mean);
      if (signed) data.push(-scale * mean);
    }
  }
  data.push(0, 1);
  // bitsandbytes pads to 256 with zeros; with 7 exponent bits both codes are already 256 long.
  while (data.length < 256) data.push(0);
  return Float64Array.from(data.sort((p, q) => p - q));
}

const SIGNED = dynamicCode(true);
const UNSIGNED = dynamicCode(false);

export function codeFor(signed: boolean): Float64Array {
  return signed ? SIGNED : UNSIGNED;
}

/** Largest half-gap between adjacent codes over the representable range [−1, 1] or [0, 1]. */
export function maxHalfGap(signed: boolean): number {
  const code = codeFor(signed);
  let worst = 0;
  for (let i = 1; i < code.length; i++) worst = Math.max(worst, (code[i]! - code[i - 1]!) / 2);
  return worst;
}

/** Index of the code entry nearest to y (code sorted ascending; ties go to the lower entry). */
function nearest(code: Float64Array, y: number): number {
  let lo = 0;
  let hi = code.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (code[mid]! <= y) lo = mid;
    else hi = mid;
  }
  return y - code[lo]! <= code[hi]! - y ? lo : hi;
}

export class QuantizedState {
  readonly codes: Uint8Array;
  readonly absmax: Float32Array;

  constructor(
    readonly size: number,
    readonly signed: boolean,
    readonly blockSize: number,
  ) {
    this.codes = new Uint8Array(size);
    this.absmax = new Float32Array(Math.ceil(size / blockSize));
    // all-zero state: code index of 0.0
    this.codes.fill(nearest(codeFor(signed), 0));
  }

  /** Bytes this state holds: one per element plus one float32 per block. */
  get bytes(): number {
    return this.codes.byteLength + this.absmax.byteLength;
  }

  /** Quantizes `values` (length = size) into this state; `step` goes into the DivergenceError of a non-finite value. */
  quantize(values: ArrayLike<number>, what = 'optimizer state', step = 0): void {
    const code = codeFor(this.signed);
    for (let block = 0; block < this.absmax.length; block++) {
      const start = block * this.blockSize;
      const end = Math.min(start + this.blockSize, this.size);
      let max = 0;
      for (let i = start; i < end; i++) max = Math.max(max, Math.abs(values[i]!));
      if (!Number.isFinite(max)) throw new DivergenceError(`8-bit ${what}: non-finite value in block ${block} (elements ${start}–${end - 1})`, step);
      this.absmax[block] = max;
      const inverse = max > 0 ? 1 / max : 0;
      for (let i = start; i < end; i++) this.codes[i] = nearest(code, values[i]! * inverse);
    }
  }

  /** Writes the dequantized values into `out` (length ≥ size). */
  dequantize(out: Float32Array): Float32Array {
    const code = codeFor(this.signed);
    for (let block = 0; block < this.absmax.length; block++) {
      const start = block * this.blockSize;
      const end = Math.min(start + this.blockSize, this.size);
      const max = this.absmax[block]!;
      for (let i = start; i < end; i++) out[i] = code[this.codes[i]!]! * max;
    }
    return out;
  }

  reset(): void {
    this.absmax.fill(0);
    this.codes.fill(nearest(codeFor(this.signed), 0));
  }
}

/** State bytes of one Adam moment pair under 8-bit rules (galore.md §6.13): 32-bit below the threshold. */
export function eightBitPairBytes(numel: number, blockSize: number, minQuantizedSize: number): number {
  if (numel < minQuantizedSize) return 8 * numel;
  return 2 * numel + 8 * Math.ceil(numel / blockSize);
}
