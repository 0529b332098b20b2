/**
 * The `gpu` backend: zolo's ops on gpu.js 2.24 kernels.
 *
 * Buffers are host Float32Arrays: every mode available in Node without a GPU (webasm, cpu, async on
 * webasm) computes on host memory and returns typed arrays, so there is no device memory to keep
 * resident. Kernel results are copied into the destination buffer, which keeps destination-passing
 * semantics and lets an op read and write the same buffer (bias add in place, axpby).
 *
 * On gpu.js kernels: matmul, binary (broadcast), unary, affine, axpby, geluBackward, reduce. On the
 * host, with the reference loops of CpuBackend: permute (needs integer div/mod, which gpu.js only
 * offers in f32), layerNorm(+backward), softmax(+backward), embedding (+scatter-add backward),
 * crossEntropy (integer targets), Adam and copy/fill; and the counter RNG (see noise.ts for why).
 *
 * Synchronous modes run each op at once. Asynchronous modes (async, webgpu) append each op to a
 * queue; `read` waits for the queue, `readSync` refuses while work is queued.
 */
import { cpus } from 'node:os';
import gpujs from 'gpu.js';
import type {
  AdamSpec, Backend, BackendOptions, BinaryOp, DeviceBuffer, Dims3, LayerNormSpec, MatmulSpec, ReduceOp, UnaryOp,
} from '../backend.ts';
import { CpuBackend } from '../cpu.ts';
import { ZoloError } from '../../errors.ts';
import {
  AFFINE_SOURCE, AXPBY_SOURCE, binarySource, flatten, GELU_BACKWARD_SOURCE, KernelCache, type KernelRequest,
  matmulSource, reduceSource, unarySource,
} from './kernels.ts';
import { ASYNC_MODES, candidateModes, type GpuMode, isModeAvailable, requestedMode } from './modes.ts';
import { fillNormalHost, perturbHost, randomBitsHost } from './noise.ts';

/**
 * Same field layout as CpuBackend's private buffer class (`data`), so the reference loops of
 * CpuBackend run directly on our host arrays for the ops gpu.js cannot express.
 */
class GpuBuffer implements DeviceBuffer {
  constructor(readonly data: Float32Array) {}
  get length(): number {
    return this.data.length;
  }
}

function data(buffer: DeviceBuffer): Float32Array {
  return (buffer as GpuBuffer).data;
}

type Work = () => void | Promise<void>;

export class GpuBackend implements Backend {
  readonly name = 'gpu';
  readonly mode: string;
  private readonly host = new CpuBackend();
  private readonly asyncMode: boolean;
  private tail: Promise<void> = Promise.resolve();
  private queued = 0;
  private failure: unknown = null;

  constructor(
    private readonly gpu: InstanceType<typeof gpujs.GPU>,
    private readonly kernels: KernelCache,
    /** the gpu.js mode requested of gpu.js ('webasm', 'async', …). */
    readonly gpuMode: GpuMode,
    /** what gpu.js actually compiles kernels for (e.g. 'webasm' under 'async'). */
    readonly kernelMode: string,
    /** why an explicitly requested mode was not used, or null. */
    readonly fallbackReason: string | null,
    threads: number | undefined,
  ) {
    this.asyncMode = ASYNC_MODES.has(gpuMode);
    const threadNote = gpuMode === 'async' && kernelMode === 'webasm' ? ` x${threads ?? cpus().length} threads` : '';
    this.mode = gpuMode === kernelMode ? `gpu.js ${gpuMode}` : `gpu.js ${gpuMode} (${kernelMode}${threadNote})`;
  }

  // ---------------------------------------------------------------- scheduling

  private schedule(work: Work): void {
    if (!this.asyncMode) {
      void work();
      return;
    }
    this.queued++;
    this.tail = this.tail
      .then(() => (this.failure === null ? work() : undefined))
      .catch((error: unknown) => {
        this.failure ??= error;
      })
      .finally(() => {
        this.queued--;
      });
  }

  private async settle(): Promise<void> {
    await this.tail;
    if (this.failure !== null) {
      const error = this.failure;
      this.failure = null;
      throw error;
    }
  }

  /** Runs a compiled kernel and copies its result into `out`. */
  private launch(out: DeviceBuffer, request: KernelRequest, args: () => unknown[]): void {
    if (out.length === 0) return;
    const kernel = this.kernels.get(request);
    const target = data(out);
    if (!this.asyncMode) {
      target.set(flatten(kernel(...args()), target.length));
      return;
    }
    this.schedule(async () => {
      target.set(flatten(await kernel(...args()), target.length));
    });
  }

  // ---------------------------------------------------------------- memory

  alloc(length: number): DeviceBuffer {
    return new GpuBuffer(new Float32Array(length));
  }
  upload(values: Float32Array): DeviceBuffer {
    return new GpuBuffer(Float32Array.from(values));
  }
  write(buffer: DeviceBuffer, values: Float32Array, offset = 0): void {
    const copy = this.asyncMode ? Float32Array.from(values) : values;
    this.schedule(() => data(buffer).set(copy, offset));
  }
  free(): void {
    // Host memory, garbage-collected; the ledger already accounts for the release.
  }
  async read(buffer: DeviceBuffer): Promise<Float32Array> {
    await this.settle();
    return Float32Array.from(data(buffer));
  }
  readSync(buffer: DeviceBuffer): Float32Array {
    if (this.queued > 0) {
      throw new ZoloError(`readSync: the gpu backend (${this.mode}) has ${this.queued} queued ops; use await read()`);
    }
    return Float32Array.from(data(buffer));
  }
  copy(src: DeviceBuffer, dst: DeviceBuffer): void {
    this.schedule(() => data(dst).set(data(src)));
  }
  fill(buffer: DeviceBuffer, value: number): void {
    this.schedule(() => {
      data(buffer).fill(value);
    });
  }

  // ---------------------------------------------------------------- linear algebra

  matmul(a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, spec: MatmulSpec): void {
    const { batch, m, n, k, transA = false, transB = false, alpha = 1, accumulate = false } = spec;
    if (k === 0) {
      if (!accumulate) this.fill(out, 0);
      return;
    }
    const constants = {
      M: m, N: n, K: k, K4: k - (k % 4),
      AI: transA ? 1 : k, AT: transA ? m : 1, ABS: spec.aBatchStride ?? m * k,
      BT: transB ? 1 : n, BJ: transB ? k : 1, BBS: spec.bBatchStride ?? k * n,
    };
    // 2-D output when unbatched: gpu.js's threaded webasm path measured 1.9× faster on it than on [n, m, 1]
    const output = batch === 1 ? [n, m] : [n, m, batch];
    const request = { name: `matmul${accumulate ? '+' : ''}`, source: matmulSource(accumulate), output, constants };
    this.launch(out, request, () => (accumulate ? [data(a), data(b), data(out), alpha] : [data(a), data(b), alpha]));
  }

  permute(a: DeviceBuffer, out: DeviceBuffer, shape: readonly number[], perm: readonly number[]): void {
    const dims = [...shape];
    const axes = [...perm];
    this.schedule(() => this.host.permute(a, out, dims, axes));
  }

  // ---------------------------------------------------------------- elementwise

  binary(op: BinaryOp, a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, dims: Dims3, bStrides: Dims3): void {
    const [outer, mid, inner] = dims;
    const [so, sm, si] = bStrides;
    const request = {
      name: `binary:${op}`, source: binarySource(op), output: [inner, mid, outer],
      constants: { MID: mid, INNER: inner, SO: so, SM: sm, SI: si },
    };
    this.launch(out, request, () => [data(a), data(b)]);
  }

  unary(op: UnaryOp, a: DeviceBuffer, out: DeviceBuffer): void {
    this.launch(out, { name: `unary:${op}`, source: unarySource(op), output: [a.length] }, () => [data(a)]);
  }

  affine(a: DeviceBuffer, out: DeviceBuffer, alpha: number, beta: number): void {
    this.launch(out, { name: 'affine', source: AFFINE_SOURCE, output: [a.length] }, () => [data(a), alpha, beta]);
  }

  axpby(alpha: number, x: DeviceBuffer, beta: number, y: DeviceBuffer): void {
    this.launch(y, { name: 'axpby', source: AXPBY_SOURCE, output: [y.length] }, () => [data(x), data(y), alpha, beta]);
  }

  geluBackward(x: DeviceBuffer, dy: DeviceBuffer, dx: DeviceBuffer): void {
    this.launch(dx, { name: 'geluBackward', source: GELU_BACKWARD_SOURCE, output: [x.length] }, () => [data(x), data(dy)]);
  }

  // ---------------------------------------------------------------- reductions

  reduce(op: ReduceOp, a: DeviceBuffer, out: DeviceBuffer, dims: Dims3): void {
    const [outer, mid, inner] = dims;
    if (mid === 0) {
      this.schedule(() => this.host.reduce(op, a, out, dims));
      return;
    }
    const request = { name: `reduce:${op}`, source: reduceSource(op), output: [inner, outer], constants: { MID: mid, INNER: inner } };
    this.launch(out, request, () => [data(a)]);
  }

  async sumSquares(a: DeviceBuffer): Promise<number> {
    await this.settle();
    return this.host.sumSquares(a);
  }

  // ---------------------------------------------------------------- transformer pieces (host)

  layerNorm(
    x: DeviceBuffer, gamma: DeviceBuffer, beta: DeviceBuffer, out: DeviceBuffer, spec: LayerNormSpec,
    mean?: DeviceBuffer, rstd?: DeviceBuffer,
  ): void {
    const s = { ...spec };
    this.schedule(() => this.host.layerNorm(x, gamma, beta, out, s, mean, rstd));
  }

  layerNormBackward(
    x: DeviceBuffer, gamma: DeviceBuffer, mean: DeviceBuffer, rstd: DeviceBuffer, dy: DeviceBuffer,
    dx: DeviceBuffer, dGamma: DeviceBuffer, dBeta: DeviceBuffer, spec: LayerNormSpec,
  ): void {
    const s = { ...spec };
    this.schedule(() => this.host.layerNormBackward(x, gamma, mean, rstd, dy, dx, dGamma, dBeta, s));
  }

  softmax(x: DeviceBuffer, out: DeviceBuffer, rows: number, cols: number, alpha = 1, causalSeq?: number): void {
    this.schedule(() => this.host.softmax(x, out, rows, cols, alpha, causalSeq));
  }

  softmaxBackward(y: DeviceBuffer, dy: DeviceBuffer, dx: DeviceBuffer, rows: number, cols: number, alpha = 1): void {
    this.schedule(() => this.host.softmaxBackward(y, dy, dx, rows, cols, alpha));
  }

  embedding(table: DeviceBuffer, ids: Int32Array, out: DeviceBuffer, dim: number): void {
    const snapshot = this.asyncMode ? Int32Array.from(ids) : ids;
    this.schedule(() => this.host.embedding(table, snapshot, out, dim));
  }

  embeddingBackward(ids: Int32Array, dy: DeviceBuffer, dTable: DeviceBuffer, dim: number): void {
    const snapshot = this.asyncMode ? Int32Array.from(ids) : ids;
    this.schedule(() => this.host.embeddingBackward(snapshot, dy, dTable, dim));
  }

  crossEntropy(
    logits: DeviceBuffer, targets: Int32Array, losses: DeviceBuffer, rows: number, cols: number,
    dLogits?: DeviceBuffer, gradScale = 1,
  ): void {
    const snapshot = this.asyncMode ? Int32Array.from(targets) : targets;
    this.schedule(() => this.host.crossEntropy(logits, snapshot, losses, rows, cols, dLogits, gradScale));
  }

  // ---------------------------------------------------------------- ZO and optimizer (host)

  perturbInPlace(param: DeviceBuffer, seed: number, stream: number, scale: number, decay = 1): void {
    this.schedule(() => perturbHost(data(param), seed, stream, scale, decay));
  }

  fillNormal(out: DeviceBuffer, seed: number, stream: number, offset = 0): void {
    this.schedule(() => fillNormalHost(data(out), seed, stream, offset));
  }

  async randomBits(seed: number, stream: number, offset: number, count: number): Promise<Uint32Array> {
    await this.settle();
    return randomBitsHost(seed, stream, offset, count);
  }

  adamStep(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, spec: AdamSpec): void {
    const s = { ...spec };
    this.schedule(() => this.host.adamStep(param, grad, m, v, s));
  }

  adamDirection(grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, out: DeviceBuffer, spec: AdamSpec): void {
    const s = { ...spec };
    this.schedule(() => this.host.adamDirection(grad, m, v, out, s));
  }

  /** Number of compiled kernels held (one per op variant and shape). */
  get compiledKernels(): number {
    return this.kernels.size;
  }

  dispose(): void {
    releaseGpu(this.gpu);
  }
}

/** Frees gpu.js kernels and worker pools; a failing teardown leaves nothing to act on, so it is not raised. */
function releaseGpu(gpu: InstanceType<typeof gpujs.GPU>): void {
  gpu.destroy().catch(() => undefined);
}

/** A tiny matmul whose answer is known; proves a mode really runs before we commit to it. */
async function probe(cache: KernelCache): Promise<string> {
  const kernel = cache.get({
    name: 'matmul', source: matmulSource(false), output: [2, 2, 1],
    constants: { M: 2, N: 2, K: 5, K4: 4, AI: 5, AT: 1, ABS: 10, BT: 2, BJ: 1, BBS: 10 },
  });
  const a = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const b = Float32Array.from([1, 0, 0, 1, 1, 1, 2, 0, 0, 2]);
  const result = flatten(await kernel(a, b, 1), 4);
  const expected = [12, 15, 32, 35];
  if (!expected.every((value, i) => result[i] === value)) {
    throw new Error(`probe matmul gave [${[...result].join(', ')}], expected [${expected.join(', ')}]`);
  }
  return KernelCache.modeOf(kernel);
}

/**
 * Builds the gpu backend in the requested mode (BackendOptions.mode, else ZOLO_GPU_MODE) or the
 * best available one. A requested mode that is missing or fails its probe falls back along the
 * automatic chain; the reason is kept in `fallbackReason`. Only an unknown mode name throws.
 */
export async function createGpuBackend(options: BackendOptions = {}): Promise<GpuBackend> {
  const requested = requestedMode(options.mode);
  const reasons: string[] = [];
  for (const mode of candidateModes(requested)) {
    if (!(await isModeAvailable(mode))) {
      reasons.push(`${mode} unavailable`);
      continue;
    }
    const gpu = new gpujs.GPU({ mode });
    const cache = new KernelCache(gpu, { asyncMode: ASYNC_MODES.has(mode), poolSize: options.threads });
    try {
      const kernelMode = await probe(cache);
      const reason = requested && mode !== requested ? `requested ${requested}: ${reasons.join('; ')}` : null;
      return new GpuBackend(gpu, cache, mode, kernelMode, reason, options.threads);
    } catch (error) {
      reasons.push(`${mode} failed its probe: ${(error as Error).message}`);
      releaseGpu(gpu);
    }
  }
  throw new ZoloError(`gpu backend: no gpu.js mode works here (${reasons.join('; ')})`);
}
