/**
 * ops.broadcastView and ops.binary against a naive numpy-style broadcast (align shapes on the
 * right, size-1 axes repeat), plus the error messages for shapes that do not fit.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ConfigError, ShapeError } from '../../src/errors.ts';
import { CpuBackend, createBackend, registeredBackends } from '../../src/kernels/index.ts';
import { Engine, ops } from '../../src/tensor/index.ts';

const engine = new Engine(new CpuBackend());

/** out[idx] = a[idx] − b[idx with b's axes aligned right, size-1 axes pinned to 0]. */
function naiveSub(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[]): Float32Array {
  const out = new Float32Array(a.length);
  const rank = aShape.length;
  const padded = [...new Array<number>(rank - bShape.length).fill(1), ...bShape];
  const index = new Array<number>(rank).fill(0);
  for (let flat = 0; flat < a.length; flat++) {
    let bFlat = 0;
    for (let axis = 0; axis < rank; axis++) bFlat = bFlat * padded[axis]! + (padded[axis] === 1 ? 0 : index[axis]!);
    out[flat] = a[flat]! - b[bFlat]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      if (++index[axis]! < aShape[axis]!) break;
      index[axis] = 0;
    }
  }
  return out;
}

describe('broadcastView', () => {
  test('binary with broadcasting equals the naive broadcast, or refuses with a ShapeError', () => {
    const arb = fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 }).chain((aShape) => fc.record({
      aShape: fc.constant(aShape),
      drop: fc.integer({ min: 0, max: aShape.length }),
      ones: fc.array(fc.boolean(), { minLength: aShape.length, maxLength: aShape.length }),
    }));
    let checked = 0;
    fc.assert(fc.property(arb, ({ aShape, drop, ones }) => {
      const bShape = aShape.slice(drop).map((d, i) => (ones[i + drop] ? 1 : d));
      const aSize = aShape.reduce((p, d) => p * d, 1);
      const bSize = bShape.reduce((p, d) => p * d, 1);
      const a = Float32Array.from({ length: aSize }, (_, i) => i * 0.5);
      const b = Float32Array.from({ length: bSize }, (_, i) => i * 1000);
      const ta = engine.fromArray(a, aShape, 'activation');
      const tb = engine.fromArray(b, bShape, 'activation');
      let got: Float32Array;
      try {
        got = ops.sub(ta, tb).readSync();
      } catch (error) {
        // the only legitimate refusal: the pattern needs more than three alternating runs of axes
        expect(error).toBeInstanceOf(ShapeError);
        expect((error as Error).message).toContain('needs more than three runs of axes');
        return;
      }
      checked++;
      expect(got).toEqual(naiveSub(a, aShape, b, bShape));
    }), { seed: 601, numRuns: 300 });
    expect(checked).toBeGreaterThan(200);
  });

  test('incompatible shapes name the op, both shapes and the axis', () => {
    expect(() => ops.broadcastView([2, 3], [4], 'add')).toThrow('add: cannot broadcast [4] to [2, 3] (axis 1: 4 vs 3)');
    expect(() => ops.broadcastView([3], [2, 3], 'mul')).toThrow('mul: cannot broadcast [2, 3] to [3]');
  });
});

describe('shape and name errors', () => {
  test('matmul with mismatched inner dims names both shapes', () => {
    const a = engine.zeros([2, 3], 'activation');
    const b = engine.zeros([4, 5], 'activation');
    expect(() => ops.matmul(a, b)).toThrow(ShapeError);
    expect(() => ops.matmul(a, b)).toThrow('matmul: [2, 3] · [4, 5] do not fit (inner dims 3 vs 4');
  });

  test('layerNorm, reshape, fromArray and crossEntropy refuse wrong sizes', () => {
    const x = engine.zeros([2, 4], 'activation');
    expect(() => ops.layerNorm(x, engine.zeros([3], 'weights'), engine.zeros([4], 'weights'))).toThrow('must have 4 elements');
    expect(() => x.reshape([3, 3])).toThrow('reshape: cannot view [2, 4] (8 elements) as [3, 3]');
    expect(() => engine.fromArray([1, 2, 3], [2, 2], 'weights')).toThrow('fromArray: 3 values do not fill shape [2, 2] (4 elements)');
    expect(() => ops.crossEntropyRows(x, Int32Array.of(0))).toThrow('crossEntropy: 1 targets for 2 rows');
    expect(() => ops.crossEntropyRows(x, Int32Array.of(0, 9))).toThrow('target 9 outside the 4 classes');
  });

  test('an unknown backend name is a ConfigError listing the known ones', async () => {
    await expect(createBackend('tpu')).rejects.toThrow(ConfigError);
    await expect(createBackend('tpu')).rejects.toThrow(`backend must be one of ${registeredBackends().join(', ')}, got "tpu"`);
  });

  test('an unknown gpu.js mode is a ConfigError listing the modes; a missing one falls back', async () => {
    await expect(createBackend('gpu', { mode: 'quantum' })).rejects.toThrow(
      'gpu backend option mode must be one of webgpu, headlessgl, webgl2, webgl, webasm, async, cpu, got "quantum"');
    const backend = await createBackend('gpu', { mode: 'webgpu' });
    const fallbackReason = (backend as unknown as { fallbackReason: string | null }).fallbackReason;
    expect(backend.mode.startsWith('gpu.js')).toBe(true);
    if (!backend.mode.includes('webgpu')) expect(fallbackReason).toContain('requested webgpu');
    backend.dispose();
  });
});
