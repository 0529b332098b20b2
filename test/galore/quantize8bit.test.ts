import { describe, expect, it } from 'vitest';
import { codeFor, dynamicCode, eightBitPairBytes, maxHalfGap, QuantizedState } from '../../src/galore/quantize8bit.ts';
import { gaussian } from './helpers.ts';

/** Half the gap between the two codes bracketing y (the per-element bound of quantize8bit.ts). */
function halfGapAt(code: Float64Array, y: number): number {
  for (let i = 1; i < code.length; i++) if (y <= code[i]!) return (code[i]! - code[Math.max(i - 1, 0)]!) / 2;
  return 0;
}

describe('blockwise 8-bit quantization (dynamic code, bitsandbytes layout)', () => {
  it('reproduces bitsandbytes create_dynamic_map: 256 distinct codes, endpoints and smallest magnitudes', () => {
    const signed = dynamicCode(true);
    const unsigned = dynamicCode(false);
    expect(new Set(signed).size).toBe(256);
    expect(new Set(unsigned).size).toBe(256);
    expect(signed[255]).toBe(1);
    expect(signed[0]).toBeCloseTo(-0.99296875, 12);
    expect(unsigned[0]).toBe(0);
    expect(unsigned[1]).toBeCloseTo(3.25e-7, 18);
    expect(maxHalfGap(true)).toBeCloseTo(0.00703125, 12);
    expect(maxHalfGap(false)).toBeCloseTo(0.003515625, 12);
  });

  for (const signed of [true, false]) {
    it(`${signed ? 'signed' : 'unsigned'}: |x − deq(q(x))| ≤ absmax·halfGap(x/absmax) ≤ absmax·H on random data across scales`, () => {
      const size = 5000; // two full blocks and a partial one
      const code = codeFor(signed);
      for (const [seed, scale] of [[1, 1], [2, 1e-4], [3, 30]] as const) {
        const raw = gaussian(seed, size, scale);
        // second moments are non-negative and heavy-tailed: square the Gaussian
        const values = Float32Array.from(raw, (x) => (signed ? x : x * x));
        const state = new QuantizedState(size, signed, 2048);
        state.quantize(values);
        const restored = state.dequantize(new Float32Array(size));
        for (let i = 0; i < size; i++) {
          const absmax = state.absmax[Math.floor(i / 2048)]!;
          const bound = absmax * halfGapAt(code, values[i]! / absmax);
          // + float32 rounding of code·absmax (relative 2⁻²⁴)
          expect(Math.abs(restored[i]! - values[i]!)).toBeLessThanOrEqual(bound * (1 + 1e-6) + absmax * 2 ** -23);
          expect(Math.abs(restored[i]! - values[i]!)).toBeLessThanOrEqual(absmax * maxHalfGap(signed) * (1 + 1e-6));
        }
      }
    });
  }

  it('rejects non-finite input instead of storing a corrupt block', () => {
    const state = new QuantizedState(10, true, 2048);
    const values = new Float32Array(10);
    values[3] = Number.POSITIVE_INFINITY;
    expect(() => state.quantize(values, 'first moment')).toThrow(/first moment: non-finite value in block 0/);
  });

  it('counts bytes as 2·numel + 8·⌈numel/2048⌉ per moment pair, with 32-bit state below 4096 elements', () => {
    expect(eightBitPairBytes(4095, 2048, 4096)).toBe(8 * 4095);
    expect(eightBitPairBytes(4096, 2048, 4096)).toBe(2 * 4096 + 8 * 2);
    expect(eightBitPairBytes(5000, 2048, 4096)).toBe(2 * 5000 + 8 * 3);
    const state = new QuantizedState(5000, true, 2048);
    expect(state.bytes).toBe(5000 + 4 * 3);
  });
});
