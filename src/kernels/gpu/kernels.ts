/**
 * gpu.js kernel sources for the `gpu` backend, and a cache of compiled kernels.
 *
 * Kernels are written as source text so one template serves every op variant (unary op, binary op,
 * matmul transposes). Shapes and strides are compiled in as `this.constants` (integer literals
 * stay i32 in gpu.js's webasm and WGSL type systems, so index arithmetic is exact up to 2³¹);
 * scalars that change per call (alpha, beta) are f32 arguments. One compiled kernel per distinct
 * (template, constants, output shape); a model has few distinct shapes, so the cache stays small.
 *
 * All arithmetic is f32 (the cpu reference accumulates some ops in f64); the agreement tests state
 * the resulting tolerance.
 */
import type gpujs from 'gpu.js';
import type { BinaryOp, UnaryOp } from '../backend.ts';

type GPU = InstanceType<typeof gpujs.GPU>;
type KernelFn = (...args: unknown[]) => unknown;

const GELU_C = '0.7978845608028654'; // √(2/π)

export const UNARY_EXPRESSIONS: Record<UnaryOp, string> = {
  neg: '-x',
  exp: 'Math.exp(x)',
  log: 'Math.log(x)',
  sqrt: 'Math.sqrt(x)',
  rsqrt: '1.0 / Math.sqrt(x)',
  square: 'x * x',
  abs: 'Math.abs(x)',
  relu: 'x > 0.0 ? x : 0.0',
  gelu: `0.5 * x * (1.0 + Math.tanh(${GELU_C} * (x + 0.044715 * x * x * x)))`,
  tanh: 'Math.tanh(x)',
  sign: 'x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0)',
  sigmoid: '1.0 / (1.0 + Math.exp(-x))',
};

export const BINARY_EXPRESSIONS: Record<BinaryOp, string> = {
  add: 'x + y',
  sub: 'x - y',
  mul: 'x * y',
  div: 'x / y',
  max: 'Math.max(x, y)',
  min: 'Math.min(x, y)',
};

export function unarySource(op: UnaryOp): string {
  return `function(a) { const x = a[this.thread.x]; return ${UNARY_EXPRESSIONS[op]}; }`;
}

/** out[o, m, i] = a[o, m, i] op b[o·SO + m·SM + i·SI]; output [INNER, MID, OUTER] (gpu.js order x, y, z). */
export function binarySource(op: BinaryOp): string {
  return `function(a, b) {
    const i = this.thread.x; const m = this.thread.y; const o = this.thread.z;
    const x = a[(o * this.constants.MID + m) * this.constants.INNER + i];
    const y = b[o * this.constants.SO + m * this.constants.SM + i * this.constants.SI];
    return ${BINARY_EXPRESSIONS[op]};
  }`;
}

export const AFFINE_SOURCE = 'function(a, alpha, beta) { return alpha * a[this.thread.x] + beta; }';
export const AXPBY_SOURCE = 'function(x, y, alpha, beta) { return alpha * x[this.thread.x] + beta * y[this.thread.x]; }';

/** dx = dy · d/dx GELU_tanh(x) (same formula as cpu.ts geluDerivative). */
export const GELU_BACKWARD_SOURCE = `function(x, dy) {
  const v = x[this.thread.x];
  const t = Math.tanh(${GELU_C} * (v + 0.044715 * v * v * v));
  const d = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * ${GELU_C} * (1.0 + 3.0 * 0.044715 * v * v);
  return dy[this.thread.x] * d;
}`;

/** out[o, i] = op over m of a[o, m, i]; output [INNER, OUTER]. Sequential f32 accumulation. */
export function reduceSource(op: 'sum' | 'mean' | 'max'): string {
  const combine = op === 'max' ? 'acc = Math.max(acc, v);' : 'acc += v;';
  const finish = op === 'mean' ? 'acc / this.constants.MID' : 'acc';
  return `function(a) {
    const i = this.thread.x; const o = this.thread.y;
    const base = o * this.constants.MID * this.constants.INNER + i;
    let acc = a[base];
    for (let m = 1; m < this.constants.MID; m++) {
      const v = a[base + m * this.constants.INNER];
      ${combine}
    }
    return ${finish};
  }`;
}

/**
 * Batched matmul, one output cell per thread, output [N, M] (or [N, M, BATCH]). Operands are
 * addressed through strides so one template covers all transpose flags:
 * a(i, t) = a[p·ABS + i·AI + t·AT], b(t, j) = b[p·BBS + t·BT + j·BJ]. The k-loop is unrolled by four
 * with four independent accumulators (breaks the add dependency chain; on webasm it measured 1.6×
 * the plain loop at 512³), then a tail loop covers k mod 4. With `accumulate`, c (the old output)
 * is added. gpu.js gives a thread no shared memory and one output value, so there is no register
 * or shared-memory tiling; k-blocking (passes over 128- or 256-step slabs of k, accumulating) was
 * measured at 0.92–1.09× of this at 512³ and 1024³ and not kept.
 */
export function matmulSource(accumulate: boolean): string {
  return `function(a, b${accumulate ? ', c' : ''}, alpha) {
    const j = this.thread.x; const i = this.thread.y; const p = this.thread.z;
    const at = this.constants.AT; const bt = this.constants.BT;
    let ai = p * this.constants.ABS + i * this.constants.AI;
    let bj = p * this.constants.BBS + j * this.constants.BJ;
    let s0 = 0.0; let s1 = 0.0; let s2 = 0.0; let s3 = 0.0;
    for (let t = 0; t < this.constants.K4; t += 4) {
      s0 += a[ai] * b[bj];
      s1 += a[ai + at] * b[bj + bt];
      s2 += a[ai + 2 * at] * b[bj + 2 * bt];
      s3 += a[ai + 3 * at] * b[bj + 3 * bt];
      ai += 4 * at;
      bj += 4 * bt;
    }
    for (let t = this.constants.K4; t < this.constants.K; t++) {
      s0 += a[ai] * b[bj];
      ai += at;
      bj += bt;
    }
    const r = alpha * ((s0 + s1) + (s2 + s3));
    return ${accumulate ? 'c[(p * this.constants.M + i) * this.constants.N + j] + r' : 'r'};
  }`;
}

/** Largest loop count a kernel may run; gpu.js needs a bound for loops over constants. */
const LOOP_LIMIT = 1 << 30;

export interface KernelRequest {
  /** template id + variant, part of the cache key. */
  name: string;
  source: string;
  /** gpu.js output dims, x first. */
  output: number[];
  constants?: Record<string, number>;
}

export interface KernelCacheSettings {
  /** kernel calls return Promises (async / webgpu modes). */
  asyncMode: boolean;
  /** worker-pool cap for threaded webasm runs. */
  poolSize?: number;
}

export class KernelCache {
  private readonly kernels = new Map<string, KernelFn>();

  constructor(
    private readonly gpu: GPU,
    private readonly settings: KernelCacheSettings,
  ) {}

  get size(): number {
    return this.kernels.size;
  }

  get(request: KernelRequest): KernelFn {
    const key = `${request.name}|${request.output.join('x')}|${JSON.stringify(request.constants ?? {})}`;
    let kernel = this.kernels.get(key);
    if (!kernel) {
      kernel = this.gpu.createKernel(request.source, {
        output: request.output,
        constants: request.constants ?? {},
        loopMaxIterations: LOOP_LIMIT,
        precision: 'single',
        tactic: 'precision',
        dynamicArguments: true,
        ...(this.settings.asyncMode ? { asyncMode: true } : {}),
        ...(this.settings.poolSize ? { poolSize: this.settings.poolSize } : {}),
      } as never) as unknown as KernelFn;
      this.kernels.set(key, kernel);
    }
    return kernel;
  }

  /** The gpu.js mode a compiled kernel actually ran in (gpu.js degrades silently to 'cpu'). */
  static modeOf(kernel: KernelFn): string {
    const inner = (kernel as unknown as { kernel?: { constructor?: { mode?: string } } }).kernel;
    return inner?.constructor?.mode ?? 'unknown';
  }
}

/**
 * gpu.js returns nested arrays of Float32Array rows for 2-D/3-D outputs; on the webasm and cpu
 * modes the rows are views of one contiguous buffer, which we take whole. Otherwise (other
 * backends may allocate per row) the rows are copied out.
 */
export function flatten(result: unknown, length: number): Float32Array {
  let leaf: unknown = result;
  while (Array.isArray(leaf)) leaf = leaf[0];
  if (leaf instanceof Float32Array && leaf.buffer.byteLength - leaf.byteOffset >= length * 4) {
    const view = new Float32Array(leaf.buffer, leaf.byteOffset, length);
    if (isContiguous(result, view)) return view;
  }
  const out = new Float32Array(length);
  let offset = 0;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else {
      const row = node as ArrayLike<number>;
      out.set(row, offset);
      offset += row.length;
    }
  };
  walk(result);
  return out;
}

/** True when the last row of `result` ends where a contiguous view of the whole would end. */
function isContiguous(result: unknown, view: Float32Array): boolean {
  let last: unknown = result;
  while (Array.isArray(last)) last = last[last.length - 1];
  if (!(last instanceof Float32Array)) return false;
  return last.buffer === view.buffer && last.byteOffset + last.byteLength === view.byteOffset + view.byteLength;
}
