/**
 * The kernel layer's contract. A backend owns device buffers of float32 and runs ops on them in
 * destination-passing style: every op writes into an `out` buffer the caller allocated, so the
 * tensor layer above can account for every byte in the MemoryLedger.
 *
 * Ops are issued without awaiting (synchronous backends finish them at once; asynchronous ones
 * queue them). `read` is the only call that waits for results. Shapes are passed as plain dims;
 * the tensor layer checks them before calling, backends trust them.
 */

/** Opaque handle to `length` float32 values living on a backend. */
export interface DeviceBuffer {
  readonly length: number;
}

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'max' | 'min';
export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'rsqrt' | 'square' | 'abs' | 'relu' | 'gelu' | 'tanh' | 'sign' | 'sigmoid';
export type ReduceOp = 'sum' | 'mean' | 'max';

/** A 3-axis view [outer, mid, inner] of a contiguous buffer; used by broadcasts and reductions. */
export type Dims3 = readonly [outer: number, mid: number, inner: number];

export interface MatmulSpec {
  /** number of independent products; out is [batch, m, n]. */
  batch: number;
  m: number;
  n: number;
  k: number;
  /** a is [batch, m, k], or [batch, k, m] when transA. */
  transA?: boolean;
  /** b is [batch, k, n], or [batch, n, k] when transB. */
  transB?: boolean;
  /** elements between consecutive batch items of a (default m·k; 0 broadcasts a). */
  aBatchStride?: number;
  /** elements between consecutive batch items of b (default k·n; 0 broadcasts b). */
  bBatchStride?: number;
  /** out = alpha·a·b (+ out when accumulate). */
  alpha?: number;
  accumulate?: boolean;
}

/** What `matmulEpilogue` applies to the product: out[p, i, j] ← gelu?(out[p, i, j] + bias[j]). */
export interface MatmulEpilogue {
  bias?: DeviceBuffer;
  gelu?: boolean;
}

export interface LayerNormSpec {
  rows: number;
  cols: number;
  eps: number;
}

export interface AdamSpec {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** decoupled weight decay λ: θ ← θ − lr·λ·θ applied after the Adam step (GaLore/HF convention). */
  weightDecay: number;
  /** 1-based step count for bias correction. */
  step: number;
}

export interface Backend {
  /** 'cpu' | 'gpu' | 'wasm' … the registered name. */
  readonly name: string;
  /** what it actually runs on, e.g. 'typed-arrays', 'gpu.js webasm', 'wasm-simd x2 threads'. */
  readonly mode: string;

  // ---- memory
  /** zero-filled buffer of `length` floats. */
  alloc(length: number): DeviceBuffer;
  upload(data: Float32Array): DeviceBuffer;
  write(buffer: DeviceBuffer, data: Float32Array, offset?: number): void;
  free(buffer: DeviceBuffer): void;
  /** waits for pending ops and copies the buffer to the host. */
  read(buffer: DeviceBuffer): Promise<Float32Array>;
  /** synchronous copy to the host; only for backends whose memory is host memory (all of zolo's today). */
  readSync(buffer: DeviceBuffer): Float32Array;
  copy(src: DeviceBuffer, dst: DeviceBuffer): void;
  fill(buffer: DeviceBuffer, value: number): void;

  // ---- linear algebra
  matmul(a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, spec: MatmulSpec): void;
  /**
   * Optional fused fast path: `matmul`, then `binary('add')` of `epilogue.bias` [n] to every row of
   * out, then `unary('gelu')` when `epilogue.gelu`, in one pass. A backend offers it only if its
   * result is bitwise that of the three ops in sequence (their composition is the test oracle);
   * ops.linear composes them where it is absent.
   */
  matmulEpilogue?(a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, spec: MatmulSpec, epilogue: MatmulEpilogue): void;
  /** out = permutation of a ([shape] → [shape[perm[0]], …]); up to 6 axes. */
  permute(a: DeviceBuffer, out: DeviceBuffer, shape: readonly number[], perm: readonly number[]): void;

  // ---- elementwise
  /**
   * out[o,m,i] = a[o,m,i] op b[o·bStrides[0] + m·bStrides[1] + i·bStrides[2]]; a and out contiguous
   * over dims. A zero stride broadcasts b along that axis (bias add: dims [1, rows, cols], strides [0, 0, 1]).
   */
  binary(op: BinaryOp, a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, dims: Dims3, bStrides: Dims3): void;
  unary(op: UnaryOp, a: DeviceBuffer, out: DeviceBuffer): void;
  /** out = alpha·a + beta (elementwise affine). */
  affine(a: DeviceBuffer, out: DeviceBuffer, alpha: number, beta: number): void;
  /** y ← alpha·x + beta·y in place. */
  axpby(alpha: number, x: DeviceBuffer, beta: number, y: DeviceBuffer): void;
  /** dx = dy · GELU′(x) (tanh approximation, as GPT-2 and torch's `approximate='tanh'`). */
  geluBackward(x: DeviceBuffer, dy: DeviceBuffer, dx: DeviceBuffer): void;

  // ---- reductions over the middle axis of dims: out[o, i] = op_m a[o, m, i]
  reduce(op: ReduceOp, a: DeviceBuffer, out: DeviceBuffer, dims: Dims3): void;
  /** sum of squares of all elements, returned to the host (float64 accumulation). */
  sumSquares(a: DeviceBuffer): Promise<number>;

  // ---- transformer pieces
  /** row-wise layer norm; mean and rstd (per row) are written when given, for the backward pass. */
  layerNorm(
    x: DeviceBuffer, gamma: DeviceBuffer, beta: DeviceBuffer, out: DeviceBuffer, spec: LayerNormSpec,
    mean?: DeviceBuffer, rstd?: DeviceBuffer,
  ): void;
  layerNormBackward(
    x: DeviceBuffer, gamma: DeviceBuffer, mean: DeviceBuffer, rstd: DeviceBuffer, dy: DeviceBuffer,
    dx: DeviceBuffer, dGamma: DeviceBuffer, dBeta: DeviceBuffer, spec: LayerNormSpec,
  ): void;
  /**
   * Row-wise softmax of alpha·x over `cols`. With `causalSeq` = T the rows are grouped as queries of
   * length-T sequences (row r is query r mod T) and column c > r mod T is masked out.
   */
  softmax(x: DeviceBuffer, out: DeviceBuffer, rows: number, cols: number, alpha?: number, causalSeq?: number): void;
  /** dx = alpha·y ⊙ (dy − rowsum(dy ⊙ y)). */
  softmaxBackward(y: DeviceBuffer, dy: DeviceBuffer, dx: DeviceBuffer, rows: number, cols: number, alpha?: number): void;
  /** out[r, :] = table[ids[r], :]. */
  embedding(table: DeviceBuffer, ids: Int32Array, out: DeviceBuffer, dim: number): void;
  /** dTable[ids[r], :] += dy[r, :]. */
  embeddingBackward(ids: Int32Array, dy: DeviceBuffer, dTable: DeviceBuffer, dim: number): void;
  /**
   * Per-row cross-entropy of logits [rows, cols] against integer targets (target < 0: row ignored,
   * loss 0). Writes the per-row losses; when `dLogits` is given also writes softmax − onehot, scaled
   * by `gradScale` (e.g. 1/number-of-counted-rows for a mean loss).
   */
  crossEntropy(
    logits: DeviceBuffer, targets: Int32Array, losses: DeviceBuffer, rows: number, cols: number,
    dLogits?: DeviceBuffer, gradScale?: number,
  ): void;

  // ---- ZO and optimizer fused ops
  // The noise ops take the stream's two Threefry key words (key0, key1) = rng.ts's (seed, stream).
  // ZO code derives them from (seed, tensor, purpose name) with `noiseKey` (noiseStreams.ts).
  /** θ ← decay·θ + scale·z, z[i] = normal(key0, key1, i) regenerated on the fly, never stored. */
  perturbInPlace(param: DeviceBuffer, key0: number, key1: number, scale: number, decay?: number): void;
  /** out[i] = normal(key0, key1, offset + i). */
  fillNormal(out: DeviceBuffer, key0: number, key1: number, offset?: number): void;
  /** out[i] = the raw 32 bits of element offset + i, returned to the host (for tests of the generator). */
  randomBits(key0: number, key1: number, offset: number, count: number): Promise<Uint32Array>;
  /**
   * One AdamW step in place. Moments m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²; then
   * θ ← θ − lr·c_t·m/(√v + eps) with c_t = √(1−β2^t)/(1−β1^t) (Hugging Face / GaLore convention,
   * galore.md §2.4), then decoupled decay θ ← θ − lr·λ·θ.
   */
  adamStep(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, spec: AdamSpec): void;
  /** The same moment update, but writes the direction c_t·m/(√v + eps) to `out` instead of stepping (GaLore). */
  adamDirection(grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, out: DeviceBuffer, spec: AdamSpec): void;

  /** releases workers, contexts etc. The backend must not be used afterwards. */
  dispose(): void;
}

/** Options every backend factory understands. */
export interface BackendOptions {
  /** worker threads for backends that use them (default: all cores). */
  threads?: number;
  /** a specific mode for backends that have several (gpu.js: webgpu, headlessgl, webasm, async, cpu). */
  mode?: string;
}
