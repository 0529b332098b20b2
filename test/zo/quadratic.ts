/**
 * Test fixtures: small synthetic objectives built directly on a ParamStore (cpu backend), evaluated
 * on the host in float64 from the float32 parameters — the ZO estimators only ever see the closure.
 * Host-side copies of the noise (z, U, V) come from src/kernels/rng.ts, the reference every backend
 * must match, so the tests can compute what an update *should* have been.
 */
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { BuiltinNoisePurpose, fillNoiseNormals, noiseKey } from '../../src/kernels/noiseStreams.ts';
import { Engine, type Param, ParamStore, type Shape } from '../../src/tensor/index.ts';
import { windowSeed } from '../../src/zo/seeds.ts';

export interface ParamSpec {
  name: string;
  shape: Shape;
  values: number[];
  trainable?: boolean;
}

export function makeStore(specs: readonly ParamSpec[]): ParamStore {
  const store = new ParamStore(new Engine(new CpuBackend()));
  for (const spec of specs) store.add(spec.name, spec.shape.length >= 2 ? 'mlp' : 'norm', spec.shape, spec.values, spec.trainable ?? true);
  return store;
}

/** Deterministic values in [−1, 1) (a tiny LCG, so fixtures do not depend on any RNG under test). */
export function fixtureValues(count: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  });
}

/** θ of all trainable params concatenated, float64. */
export function flatTrainable(store: ParamStore): Float64Array {
  const parts = store.trainable().map((p) => p.tensor.readSync());
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** f(θ) = ½ Σ a_i θ_i² + Σ b_i θ_i (diagonal A): gradient a⊙θ + b, f* = −½ Σ b_i²/a_i. */
export interface DiagonalQuadratic {
  a: Float64Array;
  b: Float64Array;
  value(theta: Float64Array): number;
  gradient(theta: Float64Array): Float64Array;
  minimum: number;
  loss(store: ParamStore): Promise<number>;
}

export function diagonalQuadratic(a: ArrayLike<number>, b: ArrayLike<number>): DiagonalQuadratic {
  const A = Float64Array.from(a);
  const B = Float64Array.from(b);
  const value = (theta: Float64Array): number => {
    let f = 0;
    for (let i = 0; i < theta.length; i++) f += 0.5 * A[i]! * theta[i]! ** 2 + B[i]! * theta[i]!;
    return f;
  };
  let minimum = 0;
  for (let i = 0; i < A.length; i++) minimum -= (0.5 * B[i]! ** 2) / A[i]!;
  return {
    a: A,
    b: B,
    value,
    gradient: (theta) => theta.map((t, i) => A[i]! * t + B[i]!),
    minimum,
    loss: async (store) => value(flatTrainable(store)),
  };
}

/** z of one query over the trainable params, concatenated (Gaussian perturbation). */
export function hostZ(params: readonly Param[], seed: number): Float64Array {
  const parts = params.map((p) => {
    const z = new Float64Array(p.tensor.size);
    fillNoiseNormals(z, noiseKey(seed, p.index, BuiltinNoisePurpose.gaussian));
    return z;
  });
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function hostU(param: Param, seed: number, rank: number): Float64Array {
  const u = new Float64Array(param.tensor.shape[0]! * rank);
  fillNoiseNormals(u, noiseKey(seed, param.index, BuiltinNoisePurpose.lowRankU));
  return u;
}

export function hostV(param: Param, runSeed: number, window: number, rank: number): Float64Array {
  const v = new Float64Array((param.tensor.size / param.tensor.shape[0]!) * rank);
  fillNoiseNormals(v, noiseKey(windowSeed(runSeed, window), param.index, BuiltinNoisePurpose.lowRankV));
  return v;
}

/** [m, r] · [n, r]ᵀ → [m, n] row-major. */
export function outerLowRank(u: Float64Array, v: Float64Array, rows: number, cols: number, rank: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let k = 0; k < rank; k++) s += u[i * rank + k]! * v[j * rank + k]!;
    out[i * cols + j] = s;
  }
  return out;
}

export function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]! * y[i]!;
  return s;
}

export const FLOAT32_EPS = 2 ** -23;
export const UNIT_ROUNDOFF = 2 ** -24;
