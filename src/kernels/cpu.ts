/**
 * The reference backend: plain loops over Float32Arrays, written to be read. Every other backend
 * is tested against this one. Accumulations that decide a loss (reductions, layer-norm statistics,
 * cross-entropy) run in float64.
 */
import type {
  AdamSpec, Backend, BinaryOp, DeviceBuffer, Dims3, LayerNormSpec, MatmulSpec, ReduceOp, UnaryOp,
} from './backend.ts';
import { bitsToUniform, threefry2x32 } from './rng.ts';

class CpuBuffer implements DeviceBuffer {
  constructor(readonly data: Float32Array) {}
  get length(): number {
    return this.data.length;
  }
}

const GELU_C = Math.sqrt(2 / Math.PI);

/** GELU, tanh approximation: ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)));
}

export function geluDerivative(x: number): number {
  const inner = GELU_C * (x + 0.044715 * x * x * x);
  const t = Math.tanh(inner);
  return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x);
}

const unaryFns: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  square: (x) => x * x,
  abs: Math.abs,
  relu: (x) => (x > 0 ? x : 0),
  gelu,
  tanh: Math.tanh,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
};

const binaryFns: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  max: Math.max,
  min: Math.min,
};

function data(buffer: DeviceBuffer): Float32Array {
  return (buffer as CpuBuffer).data;
}

export class CpuBackend implements Backend {
  // typed as string so that backends reusing these loops (wasm) can name themselves
  readonly name: string = 'cpu';
  readonly mode: string = 'typed-arrays';

  alloc(length: number): DeviceBuffer {
    return new CpuBuffer(new Float32Array(length));
  }
  upload(values: Float32Array): DeviceBuffer {
    return new CpuBuffer(Float32Array.from(values));
  }
  write(buffer: DeviceBuffer, values: Float32Array, offset = 0): void {
    data(buffer).set(values, offset);
  }
  free(_buffer: DeviceBuffer): void {
    // Garbage-collected; the ledger already accounts for the release.
  }
  async read(buffer: DeviceBuffer): Promise<Float32Array> {
    return this.readSync(buffer);
  }
  readSync(buffer: DeviceBuffer): Float32Array {
    return Float32Array.from(data(buffer));
  }
  copy(src: DeviceBuffer, dst: DeviceBuffer): void {
    data(dst).set(data(src));
  }
  fill(buffer: DeviceBuffer, value: number): void {
    data(buffer).fill(value);
  }

  matmul(a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, spec: MatmulSpec): void {
    const { batch, m, n, k, transA = false, transB = false, alpha = 1, accumulate = false } = spec;
    const A = data(a);
    const B = data(b);
    const C = data(out);
    const aStride = spec.aBatchStride ?? m * k;
    const bStride = spec.bBatchStride ?? k * n;
    const row = new Float64Array(n);
    for (let p = 0; p < batch; p++) {
      const aBase = p * aStride;
      const bBase = p * bStride;
      const cBase = p * m * n;
      for (let i = 0; i < m; i++) {
        row.fill(0);
        for (let t = 0; t < k; t++) {
          const aValue = transA ? A[aBase + t * m + i]! : A[aBase + i * k + t]!;
          if (aValue === 0) continue;
          if (transB) {
            for (let j = 0; j < n; j++) row[j]! += aValue * B[bBase + j * k + t]!;
          } else {
            const bRow = bBase + t * n;
            for (let j = 0; j < n; j++) row[j]! += aValue * B[bRow + j]!;
          }
        }
        const cRow = cBase + i * n;
        for (let j = 0; j < n; j++) C[cRow + j] = (accumulate ? C[cRow + j]! : 0) + alpha * row[j]!;
      }
    }
  }

  permute(a: DeviceBuffer, out: DeviceBuffer, shape: readonly number[], perm: readonly number[]): void {
    const A = data(a);
    const O = data(out);
    const rank = shape.length;
    const inStrides = new Array<number>(rank);
    let stride = 1;
    for (let axis = rank - 1; axis >= 0; axis--) {
      inStrides[axis] = stride;
      stride *= shape[axis]!;
    }
    const outShape = perm.map((axis) => shape[axis]!);
    const strideOfOutAxis = perm.map((axis) => inStrides[axis]!);
    const index = new Array<number>(rank).fill(0);
    for (let flat = 0; flat < O.length; flat++) {
      let source = 0;
      for (let axis = 0; axis < rank; axis++) source += index[axis]! * strideOfOutAxis[axis]!;
      O[flat] = A[source]!;
      for (let axis = rank - 1; axis >= 0; axis--) {
        if (++index[axis]! < outShape[axis]!) break;
        index[axis] = 0;
      }
    }
  }

  binary(op: BinaryOp, a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, dims: Dims3, bStrides: Dims3): void {
    const A = data(a);
    const B = data(b);
    const O = data(out);
    const fn = binaryFns[op];
    const [outer, mid, inner] = dims;
    const [so, sm, si] = bStrides;
    let flat = 0;
    for (let o = 0; o < outer; o++) {
      for (let m = 0; m < mid; m++) {
        const bBase = o * so + m * sm;
        for (let i = 0; i < inner; i++, flat++) O[flat] = fn(A[flat]!, B[bBase + i * si]!);
      }
    }
  }

  unary(op: UnaryOp, a: DeviceBuffer, out: DeviceBuffer): void {
    const A = data(a);
    const O = data(out);
    const fn = unaryFns[op];
    for (let i = 0; i < A.length; i++) O[i] = fn(A[i]!);
  }

  affine(a: DeviceBuffer, out: DeviceBuffer, alpha: number, beta: number): void {
    const A = data(a);
    const O = data(out);
    for (let i = 0; i < A.length; i++) O[i] = alpha * A[i]! + beta;
  }

  axpby(alpha: number, x: DeviceBuffer, beta: number, y: DeviceBuffer): void {
    const X = data(x);
    const Y = data(y);
    for (let i = 0; i < Y.length; i++) Y[i] = alpha * X[i]! + beta * Y[i]!;
  }

  geluBackward(x: DeviceBuffer, dy: DeviceBuffer, dx: DeviceBuffer): void {
    const X = data(x);
    const DY = data(dy);
    const DX = data(dx);
    for (let i = 0; i < X.length; i++) DX[i] = DY[i]! * geluDerivative(X[i]!);
  }

  reduce(op: ReduceOp, a: DeviceBuffer, out: DeviceBuffer, dims: Dims3): void {
    const A = data(a);
    const O = data(out);
    const [outer, mid, inner] = dims;
    // one float64 accumulator per output, rows of A read in order (contiguous): each output still
    // folds its mid values in order m = 0, 1, …, so the result is that of a per-output loop
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(op === 'max' ? -Infinity : 0);
      for (let m = 0; m < mid; m++) {
        const row = (o * mid + m) * inner;
        if (op === 'max') for (let i = 0; i < inner; i++) acc[i] = Math.max(acc[i]!, A[row + i]!);
        else for (let i = 0; i < inner; i++) acc[i]! += A[row + i]!;
      }
      for (let i = 0; i < inner; i++) O[o * inner + i] = op === 'mean' ? acc[i]! / mid : acc[i]!;
    }
  }

  async sumSquares(a: DeviceBuffer): Promise<number> {
    const A = data(a);
    let acc = 0;
    for (let i = 0; i < A.length; i++) acc += A[i]! * A[i]!;
    return acc;
  }

  layerNorm(
    x: DeviceBuffer, gamma: DeviceBuffer, beta: DeviceBuffer, out: DeviceBuffer, spec: LayerNormSpec,
    mean?: DeviceBuffer, rstd?: DeviceBuffer,
  ): void {
    const X = data(x);
    const G = data(gamma);
    const B = data(beta);
    const O = data(out);
    const { rows, cols, eps } = spec;
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += X[base + c]!;
      const mu = sum / cols;
      let sq = 0;
      for (let c = 0; c < cols; c++) sq += (X[base + c]! - mu) ** 2;
      const inv = 1 / Math.sqrt(sq / cols + eps);
      for (let c = 0; c < cols; c++) O[base + c] = (X[base + c]! - mu) * inv * G[c]! + B[c]!;
      if (mean) data(mean)[r] = mu;
      if (rstd) data(rstd)[r] = inv;
    }
  }

  layerNormBackward(
    x: DeviceBuffer, gamma: DeviceBuffer, mean: DeviceBuffer, rstd: DeviceBuffer, dy: DeviceBuffer,
    dx: DeviceBuffer, dGamma: DeviceBuffer, dBeta: DeviceBuffer, spec: LayerNormSpec,
  ): void {
    const X = data(x);
    const G = data(gamma);
    const MU = data(mean);
    const RS = data(rstd);
    const DY = data(dy);
    const DX = data(dx);
    const DG = data(dGamma);
    const DB = data(dBeta);
    const { rows, cols } = spec;
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      const mu = MU[r]!;
      const inv = RS[r]!;
      // x̂ = (x − μ)·rstd; dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂)), ĝ = dy ⊙ γ
      let meanG = 0;
      let meanGX = 0;
      for (let c = 0; c < cols; c++) {
        const xhat = (X[base + c]! - mu) * inv;
        const g = DY[base + c]! * G[c]!;
        meanG += g;
        meanGX += g * xhat;
        DG[c]! += DY[base + c]! * xhat;
        DB[c]! += DY[base + c]!;
      }
      meanG /= cols;
      meanGX /= cols;
      for (let c = 0; c < cols; c++) {
        const xhat = (X[base + c]! - mu) * inv;
        DX[base + c] = inv * (DY[base + c]! * G[c]! - meanG - xhat * meanGX);
      }
    }
  }

  softmax(x: DeviceBuffer, out: DeviceBuffer, rows: number, cols: number, alpha = 1, causalSeq?: number): void {
    const X = data(x);
    const O = data(out);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      const last = causalSeq === undefined ? cols - 1 : Math.min(cols - 1, r % causalSeq);
      let max = -Infinity;
      for (let c = 0; c <= last; c++) max = Math.max(max, alpha * X[base + c]!);
      let sum = 0;
      for (let c = 0; c <= last; c++) sum += Math.exp(alpha * X[base + c]! - max);
      for (let c = 0; c < cols; c++) O[base + c] = c <= last ? Math.exp(alpha * X[base + c]! - max) / sum : 0;
    }
  }

  softmaxBackward(y: DeviceBuffer, dy: DeviceBuffer, dx: DeviceBuffer, rows: number, cols: number, alpha = 1): void {
    const Y = data(y);
    const DY = data(dy);
    const DX = data(dx);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let dot = 0;
      for (let c = 0; c < cols; c++) dot += DY[base + c]! * Y[base + c]!;
      for (let c = 0; c < cols; c++) DX[base + c] = alpha * Y[base + c]! * (DY[base + c]! - dot);
    }
  }

  embedding(table: DeviceBuffer, ids: Int32Array, out: DeviceBuffer, dim: number): void {
    const T = data(table);
    const O = data(out);
    for (let r = 0; r < ids.length; r++) O.set(T.subarray(ids[r]! * dim, ids[r]! * dim + dim), r * dim);
  }

  embeddingBackward(ids: Int32Array, dy: DeviceBuffer, dTable: DeviceBuffer, dim: number): void {
    const DY = data(dy);
    const DT = data(dTable);
    for (let r = 0; r < ids.length; r++) {
      const target = ids[r]! * dim;
      for (let c = 0; c < dim; c++) DT[target + c]! += DY[r * dim + c]!;
    }
  }

  crossEntropy(
    logits: DeviceBuffer, targets: Int32Array, losses: DeviceBuffer, rows: number, cols: number,
    dLogits?: DeviceBuffer, gradScale = 1,
  ): void {
    const L = data(logits);
    const OUT = data(losses);
    const D = dLogits ? data(dLogits) : undefined;
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      const target = targets[r]!;
      if (target < 0) {
        OUT[r] = 0;
        if (D) D.fill(0, base, base + cols);
        continue;
      }
      let max = -Infinity;
      for (let c = 0; c < cols; c++) max = Math.max(max, L[base + c]!);
      let sum = 0;
      for (let c = 0; c < cols; c++) sum += Math.exp(L[base + c]! - max);
      const logSum = Math.log(sum) + max;
      OUT[r] = logSum - L[base + target]!;
      if (D) {
        for (let c = 0; c < cols; c++) {
          D[base + c] = gradScale * (Math.exp(L[base + c]! - logSum) - (c === target ? 1 : 0));
        }
      }
    }
  }

  perturbInPlace(param: DeviceBuffer, seed: number, stream: number, scale: number, decay = 1): void {
    const P = data(param);
    const block = new Uint32Array(2);
    for (let i = 0; i < P.length; i += 2) {
      threefry2x32(i / 2, 0, seed, stream, block);
      const radius = Math.sqrt(-2 * Math.log(bitsToUniform(block[0]!)));
      const angle = 2 * Math.PI * bitsToUniform(block[1]!);
      P[i] = decay * P[i]! + scale * radius * Math.cos(angle);
      if (i + 1 < P.length) P[i + 1] = decay * P[i + 1]! + scale * radius * Math.sin(angle);
    }
  }

  fillNormal(out: DeviceBuffer, seed: number, stream: number, offset = 0): void {
    const O = data(out);
    const block = new Uint32Array(2);
    for (let j = 0; j < O.length; j++) {
      const index = offset + j;
      threefry2x32(Math.floor(index / 2), 0, seed, stream, block);
      const radius = Math.sqrt(-2 * Math.log(bitsToUniform(block[0]!)));
      const angle = 2 * Math.PI * bitsToUniform(block[1]!);
      O[j] = (index & 1) === 0 ? radius * Math.cos(angle) : radius * Math.sin(angle);
    }
  }

  async randomBits(seed: number, stream: number, offset: number, count: number): Promise<Uint32Array> {
    const out = new Uint32Array(count);
    const block = new Uint32Array(2);
    for (let j = 0; j < count; j++) {
      const index = offset + j;
      threefry2x32(Math.floor(index / 2), 0, seed, stream, block);
      out[j] = block[index & 1]!;
    }
    return out;
  }

  adamStep(param: DeviceBuffer, grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, spec: AdamSpec): void {
    const P = data(param);
    const G = data(grad);
    const M = data(m);
    const V = data(v);
    const { lr, beta1, beta2, eps, weightDecay, step } = spec;
    const stepSize = (lr * Math.sqrt(1 - beta2 ** step)) / (1 - beta1 ** step);
    for (let i = 0; i < P.length; i++) {
      const g = G[i]!;
      M[i] = beta1 * M[i]! + (1 - beta1) * g;
      V[i] = beta2 * V[i]! + (1 - beta2) * g * g;
      let p = P[i]! - (stepSize * M[i]!) / (Math.sqrt(V[i]!) + eps);
      if (weightDecay !== 0) p -= lr * weightDecay * p;
      P[i] = p;
    }
  }

  adamDirection(grad: DeviceBuffer, m: DeviceBuffer, v: DeviceBuffer, out: DeviceBuffer, spec: AdamSpec): void {
    const G = data(grad);
    const M = data(m);
    const V = data(v);
    const O = data(out);
    const { beta1, beta2, eps, step } = spec;
    const correction = Math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step);
    for (let i = 0; i < G.length; i++) {
      const g = G[i]!;
      M[i] = beta1 * M[i]! + (1 - beta1) * g;
      V[i] = beta2 * V[i]! + (1 - beta2) * g * g;
      O[i] = (correction * M[i]!) / (Math.sqrt(V[i]!) + eps);
    }
  }

  dispose(): void {}
}
