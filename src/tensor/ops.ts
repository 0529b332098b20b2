/**
 * Shape-checked ops on tensors. Each allocates its output on the input's engine (category
 * 'activation' unless told otherwise) and runs one backend kernel. These are forward-only; the
 * tape in src/nn records them for the backprop path.
 */
import type { BinaryOp, Dims3, ReduceOp, UnaryOp } from '../kernels/backend.ts';
import { ShapeError } from '../errors.ts';
import type { NoiseKey } from '../kernels/noiseStreams.ts';
import type { MemoryCategory } from './ledger.ts';
import { formatShape, type Shape, sizeOf, Tensor } from './tensor.ts';

type Category = MemoryCategory;

function sameEngine(op: string, ...tensors: Tensor[]): void {
  const engine = tensors[0]!.engine;
  for (const t of tensors) {
    t.assertLive(op);
    if (t.engine !== engine) throw new ShapeError(`${op}: tensors live on different engines`);
  }
}

function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

// ---------------------------------------------------------------- linear algebra

export interface MatmulOptions {
  transA?: boolean;
  transB?: boolean;
  category?: Category;
}

/**
 * a [..., m, k] · b [..., k, n] → [..., m, n] (transA/transB read a or b transposed in its last two
 * axes). b may have no batch axes, in which case it is shared by every batch item.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  sameEngine('matmul', a, b);
  const { transA = false, transB = false, category = 'activation' } = options;
  if (a.rank < 2 || b.rank < 2) {
    throw new ShapeError(`matmul: both operands need at least 2 axes, got ${formatShape(a.shape)} and ${formatShape(b.shape)}`);
  }
  const [a0, a1] = a.shape.slice(-2) as [number, number];
  const [b0, b1] = b.shape.slice(-2) as [number, number];
  const m = transA ? a1 : a0;
  const k = transA ? a0 : a1;
  const kb = transB ? b1 : b0;
  const n = transB ? b0 : b1;
  const batchShape = a.shape.slice(0, -2);
  const bBatchShape = b.shape.slice(0, -2);
  if (k !== kb || (bBatchShape.length > 0 && !shapesEqual(batchShape, bBatchShape))) {
    throw new ShapeError(
      `matmul: ${formatShape(a.shape)}${transA ? 'ᵀ' : ''} · ${formatShape(b.shape)}${transB ? 'ᵀ' : ''} do not fit ` +
        `(inner dims ${k} vs ${kb}; batch ${formatShape(batchShape)} vs ${formatShape(bBatchShape)})`,
    );
  }
  const batch = sizeOf(batchShape);
  const out = a.engine.zeros([...batchShape, m, n], category);
  a.backend.matmul(a.buffer, b.buffer, out.buffer, {
    batch, m, n, k, transA, transB, bBatchStride: bBatchShape.length === 0 ? 0 : k * n,
  });
  return out;
}

/**
 * y = x Wᵀ + bias with W stored [out, in] as in PyTorch; x [..., in] → [..., out]; `gelu` applies
 * GELU to y. One pass where the backend fuses the epilogue (matmulEpilogue), else matmul, bias add
 * and GELU in turn: the same float32 result either way.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor, gelu = false): Tensor {
  const [outFeatures, inFeatures] = weight.shape as [number, number];
  if (weight.rank !== 2 || x.shape[x.rank - 1] !== inFeatures) {
    throw new ShapeError(`linear: input ${formatShape(x.shape)} does not fit weight ${formatShape(weight.shape)} ([out, in])`);
  }
  if (bias && bias.size !== outFeatures) throw new ShapeError(`linear: bias ${formatShape(bias.shape)} must have ${outFeatures} elements`);
  sameEngine('linear', x, weight, ...(bias ? [bias] : []));
  const rows = x.size / inFeatures;
  const backend = x.backend;
  const y = x.engine.zeros([rows, outFeatures], 'activation');
  const spec = { batch: 1, m: rows, n: outFeatures, k: inFeatures, transB: true, bBatchStride: 0 };
  if (backend.matmulEpilogue) {
    backend.matmulEpilogue(x.buffer, weight.buffer, y.buffer, spec, { bias: bias?.buffer, gelu });
    return y.reshape([...x.shape.slice(0, -1), outFeatures]);
  }
  backend.matmul(x.buffer, weight.buffer, y.buffer, spec);
  if (bias) backend.binary('add', y.buffer, bias.buffer, y.buffer, [1, rows, outFeatures], [0, 0, 1]);
  if (!gelu) return y.reshape([...x.shape.slice(0, -1), outFeatures]);
  const activated = unary('gelu', y);
  y.dispose();
  return activated.reshape([...x.shape.slice(0, -1), outFeatures]);
}

/** Moves axes: out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[], category: Category = 'activation'): Tensor {
  x.assertLive('permute');
  const sorted = [...perm].sort((p, q) => p - q);
  if (perm.length !== x.rank || sorted.some((axis, i) => axis !== i)) {
    throw new ShapeError(`permute: [${perm.join(', ')}] is not a permutation of the ${x.rank} axes of ${formatShape(x.shape)}`);
  }
  const out = x.engine.zeros(perm.map((axis) => x.shape[axis]!), category);
  x.backend.permute(x.buffer, out.buffer, x.shape, perm);
  return out;
}

// ---------------------------------------------------------------- elementwise

/**
 * Strides that broadcast b against a, for b's shape equal to a's or to a suffix of a's shape with
 * size-1 axes allowed (numpy rules restricted to what models need). Returns the 3-axis view.
 */
export function broadcastView(aShape: Shape, bShape: Shape, op: string): { dims: Dims3; bStrides: Dims3 } {
  if (bShape.length > aShape.length) {
    throw new ShapeError(`${op}: cannot broadcast ${formatShape(bShape)} to ${formatShape(aShape)}`);
  }
  const padded = [...new Array<number>(aShape.length - bShape.length).fill(1), ...bShape];
  // Group a's axes into at most three runs: where b is full and where b broadcasts alternate.
  const runs: { size: number; broadcast: boolean }[] = [];
  for (let axis = 0; axis < aShape.length; axis++) {
    const aDim = aShape[axis]!;
    const bDim = padded[axis]!;
    if (bDim !== aDim && bDim !== 1) {
      throw new ShapeError(`${op}: cannot broadcast ${formatShape(bShape)} to ${formatShape(aShape)} (axis ${axis}: ${bDim} vs ${aDim})`);
    }
    if (aDim === 1) continue;
    const broadcast = bDim === 1;
    const last = runs[runs.length - 1];
    if (last && last.broadcast === broadcast) last.size *= aDim;
    else runs.push({ size: aDim, broadcast });
  }
  while (runs.length < 3) runs.unshift({ size: 1, broadcast: true });
  if (runs.length > 3) {
    throw new ShapeError(`${op}: broadcasting ${formatShape(bShape)} to ${formatShape(aShape)} needs more than three runs of axes`);
  }
  const dims = runs.map((run) => run.size) as unknown as Dims3;
  const strides = [0, 0, 0];
  let stride = 1;
  for (let i = 2; i >= 0; i--) {
    strides[i] = runs[i]!.broadcast ? 0 : stride;
    if (!runs[i]!.broadcast) stride *= runs[i]!.size;
  }
  return { dims, bStrides: strides as unknown as Dims3 };
}

export function binary(op: BinaryOp, a: Tensor, b: Tensor, category: Category = 'activation'): Tensor {
  sameEngine(op, a, b);
  const { dims, bStrides } = broadcastView(a.shape, b.shape, op);
  const out = a.engine.zeros(a.shape, category);
  a.backend.binary(op, a.buffer, b.buffer, out.buffer, dims, bStrides);
  return out;
}

export const add = (a: Tensor, b: Tensor): Tensor => binary('add', a, b);
export const sub = (a: Tensor, b: Tensor): Tensor => binary('sub', a, b);
export const mul = (a: Tensor, b: Tensor): Tensor => binary('mul', a, b);
export const div = (a: Tensor, b: Tensor): Tensor => binary('div', a, b);

export function unary(op: UnaryOp, x: Tensor, category: Category = 'activation'): Tensor {
  x.assertLive(op);
  const out = x.engine.zeros(x.shape, category);
  x.backend.unary(op, x.buffer, out.buffer);
  return out;
}

export const gelu = (x: Tensor): Tensor => unary('gelu', x);
export const relu = (x: Tensor): Tensor => unary('relu', x);

/** alpha·x + beta. */
export function affine(x: Tensor, alpha: number, beta = 0, category: Category = 'activation'): Tensor {
  x.assertLive('affine');
  const out = x.engine.zeros(x.shape, category);
  x.backend.affine(x.buffer, out.buffer, alpha, beta);
  return out;
}

export const scale = (x: Tensor, alpha: number): Tensor => affine(x, alpha, 0);

/** y ← alpha·x + beta·y, in place on y. */
export function axpbyInPlace(alpha: number, x: Tensor, beta: number, y: Tensor): void {
  sameEngine('axpby', x, y);
  if (x.size !== y.size) throw new ShapeError(`axpby: ${formatShape(x.shape)} and ${formatShape(y.shape)} differ in size`);
  y.backend.axpby(alpha, x.buffer, beta, y.buffer);
}

export function copyInto(src: Tensor, dst: Tensor): void {
  sameEngine('copy', src, dst);
  if (src.size !== dst.size) throw new ShapeError(`copy: ${formatShape(src.shape)} into ${formatShape(dst.shape)}`);
  src.backend.copy(src.buffer, dst.buffer);
}

export function clone(x: Tensor, category: Category = x.category): Tensor {
  const out = x.engine.zeros(x.shape, category);
  copyInto(x, out);
  return out;
}

// ---------------------------------------------------------------- reductions

/** Reduces one axis away: [..., n_axis, ...] → [..., ...]. */
export function reduce(op: ReduceOp, x: Tensor, axis: number, category: Category = 'activation'): Tensor {
  x.assertLive(op);
  const resolved = axis < 0 ? x.rank + axis : axis;
  if (resolved < 0 || resolved >= x.rank) throw new ShapeError(`${op}: axis ${axis} out of range for ${formatShape(x.shape)}`);
  const outer = sizeOf(x.shape.slice(0, resolved));
  const inner = sizeOf(x.shape.slice(resolved + 1));
  const out = x.engine.zeros([...x.shape.slice(0, resolved), ...x.shape.slice(resolved + 1)], category);
  x.backend.reduce(op, x.buffer, out.buffer, [outer, x.shape[resolved]!, inner]);
  return out;
}

export const sum = (x: Tensor, axis: number): Tensor => reduce('sum', x, axis);
export const mean = (x: Tensor, axis: number): Tensor => reduce('mean', x, axis);

/** Mean of all elements, read back to the host. */
export async function meanAll(x: Tensor): Promise<number> {
  const values = await x.read();
  let acc = 0;
  for (const value of values) acc += value;
  return acc / values.length;
}

export function sumSquares(x: Tensor): Promise<number> {
  x.assertLive('sumSquares');
  return x.backend.sumSquares(x.buffer);
}

// ---------------------------------------------------------------- transformer pieces

export interface LayerNormResult {
  y: Tensor;
  /** per-row mean and 1/σ, kept for the backward pass. */
  mean: Tensor;
  rstd: Tensor;
}

/** Layer norm over the last axis: (x − μ)/√(σ² + eps)·γ + β. */
export function layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, eps = 1e-5): LayerNormResult {
  sameEngine('layerNorm', x, gamma, beta);
  const cols = x.shape[x.rank - 1]!;
  if (gamma.size !== cols || beta.size !== cols) {
    throw new ShapeError(`layerNorm: γ ${formatShape(gamma.shape)} and β ${formatShape(beta.shape)} must have ${cols} elements`);
  }
  const rows = x.size / cols;
  const y = x.engine.zeros(x.shape, 'activation');
  const meanT = x.engine.zeros([rows], 'activation');
  const rstd = x.engine.zeros([rows], 'activation');
  x.backend.layerNorm(x.buffer, gamma.buffer, beta.buffer, y.buffer, { rows, cols, eps }, meanT.buffer, rstd.buffer);
  return { y, mean: meanT, rstd };
}

export interface SoftmaxOptions {
  /** softmax(alpha·x); attention passes 1/√d_head. */
  alpha?: number;
  /** mask keys after the query: rows are queries of sequences of this length. */
  causalSeq?: number;
}

/** Softmax over the last axis. */
export function softmax(x: Tensor, options: SoftmaxOptions = {}): Tensor {
  x.assertLive('softmax');
  const cols = x.shape[x.rank - 1]!;
  const out = x.engine.zeros(x.shape, 'activation');
  x.backend.softmax(x.buffer, out.buffer, x.size / cols, cols, options.alpha ?? 1, options.causalSeq);
  return out;
}

/** Rows of `table` [vocab, dim] picked by ids → [...idsShape, dim]. */
export function embedding(table: Tensor, ids: Int32Array, idsShape: Shape = [ids.length]): Tensor {
  table.assertLive('embedding');
  const [vocab, dim] = table.shape as [number, number];
  if (sizeOf(idsShape) !== ids.length) throw new ShapeError(`embedding: ids shape ${formatShape(idsShape)} does not hold ${ids.length} ids`);
  for (const id of ids) {
    if (!(id >= 0 && id < vocab)) throw new ShapeError(`embedding: id ${id} outside the table's ${vocab} rows`);
  }
  const out = table.engine.zeros([...idsShape, dim], 'activation');
  table.backend.embedding(table.buffer, ids, out.buffer, dim);
  return out;
}

/** Per-row cross-entropy of logits [rows, classes] (or [..., classes]) against targets (−1 = ignore). */
export function crossEntropyRows(logits: Tensor, targets: Int32Array): Tensor {
  logits.assertLive('crossEntropy');
  const cols = logits.shape[logits.rank - 1]!;
  const rows = logits.size / cols;
  if (targets.length !== rows) throw new ShapeError(`crossEntropy: ${targets.length} targets for ${rows} rows of logits ${formatShape(logits.shape)}`);
  for (const target of targets) {
    if (target >= cols) throw new ShapeError(`crossEntropy: target ${target} outside the ${cols} classes`);
  }
  const losses = logits.engine.zeros([rows], 'activation');
  logits.backend.crossEntropy(logits.buffer, targets, losses.buffer, rows, cols);
  return losses;
}

/** Per-row cross-entropies of logits [rows, classes] against targets, read to the host (float32, row order). */
export async function crossEntropyRowValues(logits: Tensor, targets: Int32Array): Promise<Float32Array> {
  const losses = crossEntropyRows(logits, targets);
  try {
    return await losses.read();
  } finally {
    losses.dispose();
  }
}

/**
 * Mean of the per-row losses `values` over the rows whose target is not ignored (every row when
 * `targets` is null): a float64 sum in row order, then one division. Floating-point addition is
 * not associative, so this fold — not a sum of partial sums — is the reduction any caller that
 * must reproduce a batch loss bit for bit (data-parallel replicas) has to repeat.
 */
export function meanOfRowLosses(values: Float32Array, targets: Int32Array | null): number {
  let total = 0;
  let counted = 0;
  for (let row = 0; row < values.length; row++) {
    if (targets === null || targets[row]! >= 0) {
      total += values[row]!;
      counted++;
    }
  }
  return counted === 0 ? 0 : total / counted;
}

/** Mean cross-entropy over the rows whose target is not ignored, as a host number. */
export async function crossEntropyMean(logits: Tensor, targets: Int32Array): Promise<number> {
  return meanOfRowLosses(await crossEntropyRowValues(logits, targets), targets);
}

// ---------------------------------------------------------------- ZO

/** θ ← decay·θ + scale·z, z the normals of the stream with Threefry key `key`, regenerated, never stored. */
export function perturbInPlace(param: Tensor, key: NoiseKey, scale: number, decay = 1): void {
  param.assertLive('perturbInPlace');
  if (!Number.isFinite(scale) || !Number.isFinite(decay)) {
    throw new ShapeError(`perturbInPlace: scale and decay must be finite, got scale=${scale}, decay=${decay} for tensor ${formatShape(param.shape)}`);
  }
  param.backend.perturbInPlace(param.buffer, key.k0, key.k1, scale, decay);
}

/** A new tensor of standard normals z of the stream with Threefry key `key`. */
export function randomNormal(engine: Tensor['engine'], shape: Shape, key: NoiseKey, category: Category): Tensor {
  const out = engine.zeros(shape, category);
  engine.backend.fillNormal(out.buffer, key.k0, key.k1, 0);
  return out;
}
