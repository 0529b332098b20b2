/** F16 and BF16 tensors decode to the exact float32 values their bit patterns denote. */
import { describe, expect, test } from 'vitest';
import { decodeSafetensors } from '../../src/nn/safetensors.ts';

/** A one-tensor safetensors file with raw little-endian 16-bit values. */
function fileOf(dtype: string, bits: number[]): Uint8Array {
  const header = JSON.stringify({ t: { dtype, shape: [bits.length], data_offsets: [0, bits.length * 2] } }).padEnd(64, ' ');
  const out = new Uint8Array(8 + header.length + bits.length * 2);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(header.length), true);
  out.set(Buffer.from(header, 'latin1'), 8);
  bits.forEach((b, i) => view.setUint16(8 + header.length + i * 2, b, true));
  return out;
}

describe('narrow dtypes', () => {
  test('F16: normals, the largest finite, a subnormal, signed zero, infinities and NaN', () => {
    // bit patterns from IEEE 754-2008 binary16: 0x3c00 = 1, 0xc000 = −2, 0x3555 ≈ 0.333251953125,
    // 0x7bff = 65504, 0x0001 = 2⁻²⁴, 0x8000 = −0, 0x7c00 = +∞, 0xfc00 = −∞, 0x7e00 = NaN
    const { tensors } = decodeSafetensors(fileOf('F16', [0x3c00, 0xc000, 0x3555, 0x7bff, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x7e00]), 'f16');
    const entry = tensors.get('t')!;
    expect(entry.dtype).toBe('F16');
    expect([...entry.data]).toEqual([1, -2, 0.333251953125, 65504, 2 ** -24, -0, Infinity, -Infinity, NaN]);
  });

  test('BF16: the upper 16 bits of the float32', () => {
    // 0x3f80 = 1, 0xc040 = −3, 0x3eab = 0.333984375, 0x7f80 = +∞
    const { tensors } = decodeSafetensors(fileOf('BF16', [0x3f80, 0xc040, 0x3eab, 0x7f80]), 'bf16');
    expect([...tensors.get('t')!.data]).toEqual([1, -3, 0.333984375, Infinity]);
  });

  test('a span that fits F32 but not F16 is refused with the dtype named', () => {
    const bytes = fileOf('F16', [0x3c00, 0x3c00]);
    const patched = Buffer.from(Buffer.from(bytes).toString('latin1').replace('"shape":[2]', '"shape":[1]'), 'latin1');
    expect(() => decodeSafetensors(patched, 'f16')).toThrow(/tensor "t" of shape \[1\] in F16 needs 2 bytes, data_offsets span 4/);
  });
});
