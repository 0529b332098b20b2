/**
 * The safetensors container (huggingface/safetensors, docs "Format"), by hand. Written as F32;
 * read from F32, F16 or BF16 (Hugging Face checkpoints), always returned as float32 — F16 and BF16
 * values are exactly representable in float32, so the upcast loses nothing but doubles the bytes.
 *   8 bytes  N, unsigned little-endian u64: length of the header
 *   N bytes  JSON: { "__metadata__"?: {string: string}, name: { "dtype": "F32"|"F16"|"BF16", "shape": [...],
 *            "data_offsets": [begin, end] } … }, padded with spaces to a multiple of 8
 *   rest     tensor data, little-endian, offsets relative to the start of this section,
 *            contiguous and covering it exactly.
 * Files written here open with Python's `safetensors.numpy.load_file` / `safe_open`.
 * Bad input: anything truncated, inconsistent or of another dtype throws FormatError naming the file
 * and the problem; nothing is returned from a file that fails.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { FormatError } from '../errors.ts';

export const READABLE_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type StoredDtype = (typeof READABLE_DTYPES)[number];
const BYTES_PER_VALUE: Record<StoredDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export interface SafetensorsEntry {
  shape: number[];
  /** the values, upcast to float32 when stored narrower. */
  data: Float32Array;
  /** how the file stored them (written files: always F32). */
  dtype?: StoredDtype;
}

export interface SafetensorsContents {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

function littleEndianBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  data.forEach((value, i) => view.setFloat32(i * 4, value, true));
  return out;
}

function floatsFrom(bytes: Uint8Array): Float32Array {
  if (LITTLE_ENDIAN_HOST) {
    const aligned = new Uint8Array(bytes.length); // a copy at offset 0 (Buffer#slice would share the pool)
    aligned.set(bytes);
    return new Float32Array(aligned.buffer);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

/** IEEE 754 binary16 → float32 (exact), for all 65 536 bit patterns, built on first use. */
let halfTable: Float32Array | null = null;
function halfToFloat(): Float32Array {
  if (halfTable) return halfTable;
  halfTable = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0) halfTable[bits] = sign * mantissa * 2 ** -24; // subnormal (and ±0)
    else if (exponent === 31) halfTable[bits] = mantissa === 0 ? sign * Infinity : NaN;
    else halfTable[bits] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  return halfTable;
}

/** Little-endian values of `dtype` → float32 (a fresh, aligned array). */
function decodeValues(bytes: Uint8Array, dtype: StoredDtype): Float32Array {
  if (dtype === 'F32') return floatsFrom(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = bytes.length / 2;
  if (dtype === 'F16') {
    const table = halfToFloat();
    return Float32Array.from({ length: count }, (_, i) => table[view.getUint16(i * 2, true)]!);
  }
  // bfloat16 is the upper half of a float32's bits
  const out = new Float32Array(count);
  const outBits = new Uint32Array(out.buffer);
  for (let i = 0; i < count; i++) outBits[i] = view.getUint16(i * 2, true) << 16;
  return out;
}

export function encodeSafetensors(tensors: Iterable<[string, SafetensorsEntry]>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, { shape, data }] of tensors) {
    const count = shape.reduce((p, q) => p * q, 1);
    if (count !== data.length) throw new FormatError(`safetensors: tensor "${name}" has ${data.length} values for shape [${shape.join(', ')}]`);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.length * 4] };
    chunks.push(littleEndianBytes(data));
    offset += data.length * 4;
  }
  let json = JSON.stringify(header);
  const headerBytes = Buffer.byteLength(json, 'utf8');
  json += ' '.repeat((8 - (headerBytes % 8)) % 8);
  const headerBuffer = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBuffer.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBuffer.length), true);
  out.set(headerBuffer, 8);
  let position = 8 + headerBuffer.length;
  for (const chunk of chunks) {
    out.set(chunk, position);
    position += chunk.length;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsContents {
  const fail = (what: string): never => {
    throw new FormatError(`${source}: not a valid safetensors file: ${what}`);
  };
  if (bytes.length < 8) fail(`it is ${bytes.length} bytes long, shorter than the 8-byte header length`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    fail(`the header claims ${headerLength} bytes but only ${bytes.length - 8} follow (truncated or corrupted)`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(Buffer.from(bytes.subarray(8, dataStart)).toString('utf8'));
  } catch (error) {
    fail(`the ${headerLength}-byte header is not valid JSON (${(error as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('the header is not a JSON object');
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsEntry>();
  const spans: [number, number, string][] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (value === null || typeof value !== 'object') fail('"__metadata__" is not an object');
      for (const [key, text] of Object.entries(value as Record<string, unknown>)) {
        if (typeof text !== 'string') fail(`"__metadata__.${key}" is not a string`);
        metadata[key] = text as string;
      }
      continue;
    }
    const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = entry?.dtype as StoredDtype;
    if (!(READABLE_DTYPES as readonly unknown[]).includes(dtype)) {
      fail(`tensor "${name}" has dtype ${JSON.stringify(entry?.dtype)}; zolo reads ${READABLE_DTYPES.join(', ')}`);
    }
    const width = BYTES_PER_VALUE[dtype];
    const shape = entry.shape;
    if (!Array.isArray(shape) || !shape.every((dim) => Number.isInteger(dim) && dim >= 0)) fail(`tensor "${name}" has shape ${JSON.stringify(shape)}`);
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      fail(`tensor "${name}" has data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((p, q) => p * q, 1);
    if (end - begin !== count * width) {
      fail(`tensor "${name}" of shape [${(shape as number[]).join(', ')}] in ${dtype} needs ${count * width} bytes, data_offsets span ${end - begin}`);
    }
    if (end > dataLength) fail(`tensor "${name}" ends at data byte ${end} but the data section has ${dataLength} bytes (truncated)`);
    spans.push([begin, end, name]);
    tensors.set(name, { shape: shape as number[], data: decodeValues(bytes.subarray(dataStart + begin, dataStart + end), dtype), dtype });
  }
  spans.sort((p, q) => p[0] - q[0]);
  let covered = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== covered) fail(`tensor "${name}" starts at data byte ${begin}, expected ${covered} (overlap or hole)`);
    covered = end;
  }
  if (covered !== dataLength) fail(`the tensors cover ${covered} data bytes but the data section has ${dataLength} (trailing bytes)`);
  return { tensors, metadata };
}

/** Writes atomically: a temporary file in the same directory, then rename over `file`. */
export async function writeSafetensors(file: string, tensors: Iterable<[string, SafetensorsEntry]>, metadata: Record<string, string> = {}): Promise<void> {
  const bytes = encodeSafetensors(tensors, metadata);
  const temporary = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

export async function readSafetensors(file: string): Promise<SafetensorsContents> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new FormatError(`${file}: cannot read checkpoint (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  return decodeSafetensors(bytes, file);
}
