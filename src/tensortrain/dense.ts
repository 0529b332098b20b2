/**
 * Host-side float64 arrays for the TT algebra: a dense d-way tensor and a dense matrix, both
 * row-major (C order, first index slowest) — the order PyTorch/NumPy reshapes assume, so a TT of a
 * reshaped weight means the same thing here as in the reference code (spec §2.1).
 */
import { ShapeError } from '../errors.ts';

/** A dense tensor of shape [n_1, …, n_d], row-major. */
export interface DenseTensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** A dense matrix [rows, cols], row-major. */
export interface Matrix64 {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

export function product(values: readonly number[]): number {
  let out = 1;
  for (const value of values) out *= value;
  return out;
}

export function denseTensor(shape: readonly number[], data: ArrayLike<number>, name = 'tensor'): DenseTensor {
  assertModes(shape, `${name}.shape`);
  if (data.length !== product(shape)) {
    throw new ShapeError(`${name}: ${data.length} values do not fill shape [${shape.join(', ')}] (${product(shape)} elements)`);
  }
  return { shape: [...shape], data: Float64Array.from(data) };
}

/** Throws unless every mode size is a positive integer. */
export function assertModes(modes: readonly number[], field: string): void {
  if (modes.length === 0 || modes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new ShapeError(`${field} must be a non-empty list of positive integers, got [${modes.join(', ')}]`);
  }
}

/** Frobenius norm √Σ a². */
export function frobenius(data: Float64Array): number {
  let sum = 0;
  for (const value of data) sum += value * value;
  return Math.sqrt(sum);
}

/** ‖a − b‖_F / ‖b‖_F (‖a − b‖_F when b = 0). */
export function relativeDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) throw new ShapeError(`relativeDifference: lengths ${a.length} and ${b.length} differ`);
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i]! - b[i]!) ** 2;
    ref += b[i]! ** 2;
  }
  return ref === 0 ? Math.sqrt(diff) : Math.sqrt(diff / ref);
}

/** Moves axes of a row-major tensor: out.shape[i] = shape[perm[i]]. */
export function permuteDense(x: DenseTensor, perm: readonly number[]): DenseTensor {
  const d = x.shape.length;
  const sorted = [...perm].sort((p, q) => p - q);
  if (perm.length !== d || sorted.some((axis, i) => axis !== i)) {
    throw new ShapeError(`permute: [${perm.join(', ')}] is not a permutation of the ${d} axes of [${x.shape.join(', ')}]`);
  }
  const inStrides = stridesOf(x.shape);
  const outShape = perm.map((axis) => x.shape[axis]!);
  const strideOfOutAxis = perm.map((axis) => inStrides[axis]!);
  const out = new Float64Array(x.data.length);
  const index = new Array<number>(d).fill(0);
  let source = 0;
  for (let target = 0; target < out.length; target++) {
    out[target] = x.data[source]!;
    // Odometer increment over the output index, tracking the matching source offset.
    for (let axis = d - 1; axis >= 0; axis--) {
      index[axis]!++;
      source += strideOfOutAxis[axis]!;
      if (index[axis]! < outShape[axis]!) break;
      source -= strideOfOutAxis[axis]! * outShape[axis]!;
      index[axis] = 0;
    }
  }
  return { shape: outShape, data: out };
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    strides[axis] = stride;
    stride *= shape[axis]!;
  }
  return strides;
}

/** c = a·b for row-major matrices given as raw arrays: a [m, k], b [k, n] → [m, n]. */
export function matmulRaw(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const cRow = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p]!;
      if (aip === 0) continue;
      const bRow = p * n;
      for (let j = 0; j < n; j++) c[cRow + j]! += aip * b[bRow + j]!;
    }
  }
  return c;
}

export function matmul64(a: Matrix64, b: Matrix64): Matrix64 {
  if (a.cols !== b.rows) throw new ShapeError(`matmul: ${a.rows}×${a.cols} · ${b.rows}×${b.cols} do not fit`);
  return { rows: a.rows, cols: b.cols, data: matmulRaw(a.data, b.data, a.rows, a.cols, b.cols) };
}

export function transpose64(a: Matrix64): Matrix64 {
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < a.rows; i++) for (let j = 0; j < a.cols; j++) out[j * a.rows + i] = a.data[i * a.cols + j]!;
  return { rows: a.cols, cols: a.rows, data: out };
}
