/**
 * The wasm backend: hand-written WebAssembly SIMD kernels (wat.ts) on buffers that live in one
 * shared WebAssembly.Memory, run on `threads` threads (pool.ts). It extends the cpu reference
 * backend: its buffers expose the same `data` Float32Array (a view into the shared memory), so the
 * ops without a wasm kernel (backward-only and rarely used ones) run the cpu oracle's loops
 * unchanged. Overridden here: matmul (and its fused bias/GELU epilogue), permute, binary, the SIMD
 * unary maps, affine, axpby, embedding, layer norm, softmax, perturbInPlace, fillNormal, and
 * layerNormBackward/softmaxBackward/embeddingBackward/geluBackward/crossEntropy/reduce/adamStep/adamDirection
 * (float64 like the cpu loops, bit for bit), plus buffer management (a
 * size-class heap over the shared memory, deferred zero fills; see WasmBuffer).
 *
 * Agreement with the cpu oracle: binary ops and neg/abs/square/relu/sqrt, permute, embedding are
 * exact; matmul, layer norm and softmax accumulate in float32 (cpu: float64); exp/GELU/normals use
 * the polynomial approximations documented in wat.ts (normals within 1e-6·max(1, |z|)).
 * Buffers belong to the backend that made them; only backend methods may touch `data` (they
 * settle deferred zeros first).
 */
import type { AdamSpec, DeviceBuffer, BinaryOp, Dims3, LayerNormSpec, MatmulEpilogue, MatmulSpec, ReduceOp, UnaryOp } from '../backend.ts';
import { CpuBackend } from '../cpu.ts';
import { SharedHeap } from './heap.ts';
import { MAX_PAGES, kernelModule } from './module.ts';
import { ThreadPool } from './pool.ts';
import { WASM_BINARY_OPS, WASM_UNARY_OPS } from './wat.ts';
import { MC_PANELS, MR, NR } from './watMatmul.ts';

/** Below this many elements an elementwise op runs on the calling thread (hand-off costs ~5–20 µs). */
const PARALLEL_MIN_ELEMENTS = 16_384;
/** The `reduce` kernel's op codes, by index. */
const REDUCE_OPS: readonly ReduceOp[] = ['sum', 'mean', 'max'];
/** Below this many multiply-adds a matmul runs on the calling thread. */
const PARALLEL_MIN_MACS = 65_536;

export class WasmBuffer implements DeviceBuffer {
  freed = false;
  /**
   * Recycled memory owes zeros (alloc's contract) but is usually overwritten whole by the op that
   * produced it, so the fill is deferred: `ready` performs it before anything reads the buffer,
   * `output` drops it when an op is about to overwrite every element. Saves one memory pass per
   * activation (~2 ms of a tiny forward).
   */
  zeroPending = false;
  constructor(readonly address: number, readonly data: Float32Array) {}
  get length(): number {
    return this.data.length;
  }
}

function buf(buffer: DeviceBuffer): WasmBuffer {
  return buffer as WasmBuffer;
}

const binaryOps = new Set<string>(WASM_BINARY_OPS);
const unaryOps = new Set<string>(WASM_UNARY_OPS);

export interface WasmBackendOptions {
  /** threads including the calling one (default: all cores). */
  threads: number;
}

export class WasmBackend extends CpuBackend {
  override readonly name: string = 'wasm';
  override readonly mode: string;
  private scratch = 0;
  private scratchStride = 0;

  private constructor(private readonly heap: SharedHeap, private readonly pool: ThreadPool, readonly fma: boolean) {
    super();
    this.mode = `wasm-simd${fma ? '+fma' : ''} x${pool.threads} threads`;
    // cpu loops this class does not override: settle deferred zeros of every buffer they touch
    for (const name of Object.getOwnPropertyNames(CpuBackend.prototype)) {
      if (name === 'constructor' || Object.prototype.hasOwnProperty.call(WasmBackend.prototype, name)) continue;
      const method = (CpuBackend.prototype as unknown as Record<string, unknown>)[name];
      if (typeof method !== 'function') continue;
      (this as unknown as Record<string, unknown>)[name] = (...args: unknown[]): unknown => {
        for (const arg of args) if (arg instanceof WasmBuffer) this.ready(arg);
        return (method as (...a: unknown[]) => unknown).apply(this, args);
      };
    }
  }

  /** Performs deferred zero fills of buffers an op is about to read. */
  private ready(...buffers: (DeviceBuffer | undefined)[]): void {
    for (const buffer of buffers) {
      const b = buffer as WasmBuffer | undefined;
      if (b?.zeroPending) {
        b.data.fill(0);
        b.zeroPending = false;
      }
    }
  }

  /** An op is about to write `count` elements of `buffer` from its start: the zeros are moot if that is all of it. */
  private output(buffer: DeviceBuffer, count: number): void {
    const b = buffer as WasmBuffer;
    if (count >= b.length) b.zeroPending = false;
    else this.ready(b);
  }

  static async create(options: WasmBackendOptions): Promise<WasmBackend> {
    const { module, fma } = await kernelModule();
    const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const pool = await ThreadPool.start(module, memory, instance, options.threads);
    return new WasmBackend(new SharedHeap(memory), pool, fma);
  }

  get threads(): number {
    return this.pool.threads;
  }

  /** Runs the FLOP/s probe kernel (benchmarks/peak-flops.ts): `iters` × peakFlopsPerIter(fma) flops, shared by the threads. */
  peakProbe(iters: number, parallel: boolean): void {
    this.pool.run('peak', [iters], parallel);
  }

  // ---- memory
  override alloc(length: number): DeviceBuffer {
    const { address, fresh } = this.heap.allocBytes(length * 4);
    const buffer = new WasmBuffer(address, this.heap.view(address, length));
    // memory never handed out before is zero already
    buffer.zeroPending = !fresh;
    return buffer;
  }
  override upload(values: Float32Array): DeviceBuffer {
    const { address } = this.heap.allocBytes(values.length * 4);
    const view = this.heap.view(address, values.length);
    view.set(values);
    return new WasmBuffer(address, view);
  }
  override free(buffer: DeviceBuffer): void {
    const b = buf(buffer);
    if (b.freed) return;
    b.freed = true;
    this.heap.freeBytes(b.address, b.length * 4);
  }

  override write(buffer: DeviceBuffer, values: Float32Array, offset = 0): void {
    if (offset === 0) this.output(buffer, values.length);
    else this.ready(buffer);
    super.write(buffer, values, offset);
  }
  override readSync(buffer: DeviceBuffer): Float32Array {
    this.ready(buffer);
    return super.readSync(buffer);
  }
  override async read(buffer: DeviceBuffer): Promise<Float32Array> {
    return this.readSync(buffer);
  }
  override copy(src: DeviceBuffer, dst: DeviceBuffer): void {
    this.ready(src);
    this.output(dst, src.length);
    super.copy(src, dst);
  }
  override fill(buffer: DeviceBuffer, value: number): void {
    buf(buffer).zeroPending = false;
    super.fill(buffer, value);
  }

  // ---- linear algebra
  override matmul(a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, spec: MatmulSpec): void {
    this.mm(a, b, out, spec, {});
  }

  /** matmul with the bias add and GELU applied in the block's store (wat.ts mm): bitwise the unfused ops. */
  matmulEpilogue(a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, spec: MatmulSpec, epilogue: MatmulEpilogue): void {
    this.mm(a, b, out, spec, epilogue);
  }

  private mm(a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, spec: MatmulSpec, epilogue: MatmulEpilogue): void {
    const { batch, m, n, k, transA = false, transB = false, alpha = 1, accumulate = false } = spec;
    const { bias, gelu = false } = epilogue;
    this.ready(a, b, bias);
    if (accumulate) this.ready(out);
    else this.output(out, batch * m * n);
    if (batch === 0 || m === 0 || n === 0) return;
    const nPadded = Math.ceil(n / NR) * NR;
    const stride = 4 * (nPadded * k + MC_PANELS * MR * k + MR * NR);
    this.ensureScratch(stride);
    this.pool.run('mm', [
      buf(a).address, buf(b).address, buf(out).address, batch, m, n, k,
      transA ? 1 : k, transA ? m : 1, spec.aBatchStride ?? m * k,
      transB ? 1 : n, transB ? k : 1, spec.bBatchStride ?? k * n,
      alpha, accumulate ? 1 : 0, this.scratch, this.scratchStride, bias ? buf(bias).address : 0, gelu ? 1 : 0,
    ], batch * m * n * k >= PARALLEL_MIN_MACS);
  }

  /** Per-thread packing space for matmul; grows (never shrinks) to the largest product seen. */
  private ensureScratch(stride: number): void {
    if (stride <= this.scratchStride) return;
    if (this.scratch !== 0) this.heap.freeBytes(this.scratch, this.scratchStride * this.pool.threads);
    this.scratchStride = Math.ceil(stride / 64) * 64;
    this.scratch = this.heap.allocBytes(this.scratchStride * this.pool.threads).address;
  }

  override permute(a: DeviceBuffer, out: DeviceBuffer, shape: readonly number[], perm: readonly number[]): void {
    this.ready(a);
    this.output(out, a.length);
    const plan = permutePlan(shape, perm);
    if (!plan) return super.permute(a, out, shape, perm);
    const { outer, strides, run } = plan;
    const rows = outer[0]! * outer[1]! * outer[2]!;
    if (rows === 0 || run === 0) return;
    this.pool.run('permute', [buf(a).address, buf(out).address, outer[1]!, outer[2]!, strides[0]!, strides[1]!, strides[2]!, run, rows],
      rows * run >= PARALLEL_MIN_ELEMENTS);
  }

  // ---- elementwise
  override binary(op: BinaryOp, a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, dims: Dims3, bStrides: Dims3): void {
    const [outer, mid, inner] = dims;
    this.ready(a, b);
    this.output(out, outer * mid * inner);
    if (!binaryOps.has(op)) return super.binary(op, a, b, out, dims, bStrides);
    const [so, sm, si] = bStrides;
    const total = outer * mid * inner;
    if (total === 0) return;
    const parallel = total >= PARALLEL_MIN_ELEMENTS;
    const contiguous = si === 1 && (mid === 1 || sm === inner) && (outer === 1 || so === mid * inner);
    if (contiguous) {
      this.pool.run(`bin_flat_${op}`, [total, buf(a).address, buf(b).address, buf(out).address], parallel);
    } else {
      this.pool.run(`bin_rows_${op}`, [
        buf(a).address, buf(b).address, buf(out).address, mid, inner, so, sm, si, outer * mid,
      ], parallel);
    }
  }

  override unary(op: UnaryOp, a: DeviceBuffer, out: DeviceBuffer): void {
    this.ready(a);
    this.output(out, a.length);
    if (!unaryOps.has(op)) return super.unary(op, a, out);
    const n = a.length;
    this.pool.run(`un_${op}`, [n, buf(a).address, buf(out).address], n >= PARALLEL_MIN_ELEMENTS);
  }

  override affine(a: DeviceBuffer, out: DeviceBuffer, alpha: number, beta: number): void {
    const n = a.length;
    this.ready(a);
    this.output(out, n);
    this.pool.run('affine', [n, buf(a).address, buf(out).address, alpha, beta], n >= PARALLEL_MIN_ELEMENTS);
  }

  override axpby(alpha: number, x: DeviceBuffer, beta: number, y: DeviceBuffer): void {
    const n = y.length;
    this.ready(x, y);
    this.pool.run('axpby', [n, buf(x).address, buf(y).address, alpha, beta], n >= PARALLEL_MIN_ELEMENTS);
  }

  // ---- transformer pieces
  override embedding(table: DeviceBuffer, ids: Int32Array, out: DeviceBuffer, dim: number): void {
    this.ready(table);
    this.output(out, ids.length * dim);
    if (ids.length === 0) return;
    const { address } = this.heap.allocBytes(ids.length * 4);
    try {
      this.heap.int32View(address, ids.length).set(ids);
      this.pool.run('gather', [buf(table).address, address, buf(out).address, ids.length, dim], ids.length * dim >= PARALLEL_MIN_ELEMENTS);
    } finally {
      this.heap.freeBytes(address, ids.length * 4);
    }
  }

  override layerNorm(
    x: DeviceBuffer, gamma: DeviceBuffer, beta: DeviceBuffer, out: DeviceBuffer, spec: LayerNormSpec,
    mean?: DeviceBuffer, rstd?: DeviceBuffer,
  ): void {
    const { rows, cols, eps } = spec;
    this.ready(x, gamma, beta);
    this.output(out, rows * cols);
    if (mean) this.output(mean, rows);
    if (rstd) this.output(rstd, rows);
    this.pool.run('layernorm', [
      buf(x).address, buf(gamma).address, buf(beta).address, buf(out).address, rows, cols, eps,
      mean ? buf(mean).address : 0, rstd ? buf(rstd).address : 0,
    ], rows * cols >= PARALLEL_MIN_ELEMENTS);
  }

  override softmax(x: DeviceBuffer, out: DeviceBuffer, rows: number, cols: number, alpha = 1, causalSeq?: number): void {
    this.ready(x);
    this.output(out, rows * cols);
    this.pool.run('softmax', [buf(x).address, buf(out).address, rows, cols, alpha, causalSeq ?? 0],
      rows * cols >= PARALLEL_MIN_ELEMENTS);
  }

  // ---- backward and optimizer ops: the cpu oracle's float64 arithmetic, bit for bit (watBackward.ts, watFloat64.ts)
  override layerNormBackward(
    x: DeviceBuffer, gamma: DeviceBuffer, mean: DeviceBuffer, rstd: DeviceBuffer, dy: DeviceBuffer,
    dx: DeviceBuffer, dGamma: DeviceBuffer, dBeta: DeviceBuffer, spec: LayerNormSpec,
  ): void {
    const { rows, cols } = spec;
    // dγ and dβ are accumulated into, so their zeros (or earlier sums) are read
    this.ready(x, gamma, mean, rstd, dy, dGamma, dBeta);
    this.output(dx, rows * cols);
    const parallel = rows * cols >= PARALLEL_MIN_ELEMENTS;
    this.pool.run('ln_bwd_rows', [
      buf(x).address, buf(gamma).address, buf(mean).address, buf(rstd).address, buf(dy).address, buf(dx).address, rows, cols,
    ], parallel);
    this.pool.run('ln_bwd_params', [
      buf(x).address, buf(mean).address, buf(rstd).address, buf(dy).address, buf(dGamma).address, buf(dBeta).address, rows, cols,
    ], parallel);
  }

  override embeddingBackward(ids: Int32Array, dy: DeviceBuffer, dTable: DeviceBuffer, dim: number): void {
    this.ready(dy, dTable);
    if (ids.length === 0 || dim === 0) return;
    const { address } = this.heap.allocBytes(ids.length * 4);
    try {
      this.heap.int32View(address, ids.length).set(ids);
      this.pool.run('embedding_bwd', [address, buf(dy).address, buf(dTable).address, ids.length, dim], ids.length * dim >= PARALLEL_MIN_ELEMENTS);
    } finally {
      this.heap.freeBytes(address, ids.length * 4);
    }
  }

  override reduce(op: ReduceOp, a: DeviceBuffer, out: DeviceBuffer, dims: Dims3): void {
    const [outer, mid, inner] = dims;
    this.ready(a);
    this.output(out, outer * inner);
    if (outer * inner === 0) return;
    this.pool.run('reduce', [buf(a).address, buf(out).address, outer, mid, inner, REDUCE_OPS.indexOf(op)], outer * mid * inner >= PARALLEL_MIN_ELEMENTS);
  }

  override geluBackward(x: DeviceBuffer, dy: DeviceBuffer, dx: DeviceBuffer): void {
    const n = x.length;
    this.ready(x, dy);
    this.output(dx, n);
    this.pool.run('gelu_bwd', [n, buf(x).address, buf(dy).address, buf(dx).address], n >= PARALLEL_MIN_ELEMENTS);
  }

  override crossEntropy(
    logits: DeviceBuffer, targets: Int32Array, losses: DeviceBuffer, rows: number, cols: number,
    dLogits?: DeviceBuffer, gradScale = 1,
  ): void {
    this.ready(logits);
    this.output(losses, rows);
    if (dLogits) this.output(dLogits, rows * cols);
    if (rows === 0) return;
    const targetBytes = rows * 4;
    const statBytes = rows * 16;
    const ids = this.heap.allocBytes(targetBytes).address;
    const stats = this.heap.allocBytes(statBytes).address;
    try {
      this.heap.int32View(ids, rows).set(targets);
      const parallel = rows * cols >= PARALLEL_MIN_ELEMENTS;
      this.pool.run('ce_stats', [buf(logits).address, ids, stats, rows, cols], parallel);
      // the row's log-sum-exp with the host's Math.log, as the cpu loop computes it: [max, Σ] → [logSum, Σ]
      const stat = this.heap.float64View(stats, 2 * rows);
      for (let r = 0; r < rows; r++) if (targets[r]! >= 0) stat[2 * r] = Math.log(stat[2 * r + 1]!) + stat[2 * r]!;
      this.pool.run('ce_out', [buf(logits).address, ids, stats, buf(losses).address, dLogits ? buf(dLogits).address : 0, gradScale, rows, cols], parallel);
    } finally {
      this.heap.freeBytes(ids, targetBytes);
      this.heap.freeBytes(stats, statBytes);
    }
  }

  /**
   * The kernels' exp and tanh (fdlibm's, as V8's Math.exp and Math.tanh; the two-lane exp's lanes
   * given (x, other lane)), for tests that compare them bit for bit.
   */
  libm(name: 'exp64' | 'tanh64' | 'exp64x2_lane0' | 'exp64x2_lane1', ...args: number[]): number {
    return this.pool.call(name, ...args);
  }

  override softmaxBackward(y: DeviceBuffer, dy: DeviceBuffer, dx: DeviceBuffer, rows: number, cols: number, alpha = 1): void {
    this.ready(y, dy);
    this.output(dx, rows * cols);
    this.pool.run('softmax_bwd', [buf(y).address, buf(dy).address, buf(dx).address, alpha, rows, cols], rows * cols >= PARALLEL_MIN_ELEMENTS);
  }

  override adamStep(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, spec: AdamSpec): void {
    const { lr, beta2, step, weightDecay } = spec;
    const n = param.length;
    this.ready(param, grad, m, v);
    // the host-side scalars exactly as cpu.ts computes them
    const stepSize = (lr * Math.sqrt(1 - beta2 ** step)) / (1 - spec.beta1 ** step);
    this.pool.run('adam_step', [n, buf(param).address, ...this.adamArgs(grad, m, v, spec), stepSize, lr * weightDecay, weightDecay !== 0 ? 1 : 0],
      n >= PARALLEL_MIN_ELEMENTS);
  }

  override adamDirection(grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, out: DeviceBuffer, spec: AdamSpec): void {
    const { beta1, beta2, step } = spec;
    const n = grad.length;
    this.ready(grad, m, v);
    this.output(out, n);
    const correction = Math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step);
    this.pool.run('adam_dir', [n, buf(out).address, ...this.adamArgs(grad, m, v, spec), correction], n >= PARALLEL_MIN_ELEMENTS);
  }

  /** g, m, v, β1, 1 − β1, β2, 1 − β2, eps: the arguments adam_step and adam_dir share. */
  private adamArgs(grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, spec: AdamSpec): number[] {
    const { beta1, beta2, eps } = spec;
    return [buf(grad).address, buf(m).address, buf(v).address, beta1, 1 - beta1, beta2, 1 - beta2, eps];
  }

  // ---- ZO fused ops
  override perturbInPlace(param: DeviceBuffer, seed: number, stream: number, scale: number, decay = 1): void {
    this.ready(param);
    this.normals(buf(param), seed, stream, 0, scale, decay, false);
  }

  override fillNormal(out: DeviceBuffer, seed: number, stream: number, offset = 0): void {
    this.output(out, out.length);
    this.normals(buf(out), seed, stream, offset, 1, 0, true);
  }

  /**
   * dst[j] ← z(offset + j) (fill) or decay·dst[j] + scale·z(offset + j): an odd first index and the
   * last < 8 elements go through normals_few, the rest 8 at a time; both evaluate the same
   * normals4 code, so results are bitwise independent of chunking.
   */
  private normals(dst: WasmBuffer, seed: number, stream: number, offset: number, scale: number, decay: number, fill: boolean): void {
    const n = dst.length;
    const head = Math.min(n, offset & 1);
    const groups = Math.floor((n - head) / 8);
    const flag = fill ? 1 : 0;
    if (head > 0) this.pool.run('normals_few', [dst.address, head, seed >>> 0, stream >>> 0, offset, scale, decay, flag], false);
    if (groups > 0) {
      this.pool.run('normals', [dst.address + 4 * head, groups, seed >>> 0, stream >>> 0, (offset + head) / 2, scale, decay, flag],
        n >= PARALLEL_MIN_ELEMENTS);
    }
    const done = head + groups * 8;
    if (done < n) {
      this.pool.run('normals_few', [dst.address + 4 * done, n - done, seed >>> 0, stream >>> 0, offset + done, scale, decay, flag], false);
    }
  }

  override dispose(): void {
    this.pool.dispose();
  }
}

/**
 * Reduces a permutation to the `permute` kernel's form: drop size-1 axes, merge output axes that
 * are adjacent in the input, and require the innermost input axis to stay innermost (a contiguous
 * run) with at most 3 outer axes. Returns undefined when it does not fit (the cpu loop handles it).
 */
export function permutePlan(shape: readonly number[], perm: readonly number[]):
  { outer: number[]; strides: number[]; run: number } | undefined {
  const inStrides: number[] = [];
  let stride = 1;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    inStrides[axis] = stride;
    stride *= shape[axis]!;
  }
  const axes: { size: number; stride: number }[] = [];
  for (const axis of perm) {
    const size = shape[axis]!;
    if (size === 1) continue;
    const last = axes[axes.length - 1];
    if (last && last.stride === size * inStrides[axis]!) {
      last.size *= size;
      last.stride = inStrides[axis]!;
    } else {
      axes.push({ size, stride: inStrides[axis]! });
    }
  }
  if (axes.length === 0) axes.push({ size: 1, stride: 1 });
  const inner = axes.pop()!;
  if (inner.stride !== 1 || axes.length > 3) return undefined;
  while (axes.length < 3) axes.unshift({ size: 1, stride: 0 });
  return { outer: axes.map((x) => x.size), strides: axes.map((x) => x.stride), run: inner.size };
}
