/**
 * Shared pieces of the GaLore tests: a CPU engine with a fresh ledger, seeded matrices, host
 * matrix products in float64, and the ½‖W − W*‖² / ½‖WX − Y‖² problems of galore.md §6.14–6.16.
 */
import type { GaLoreSettings, GaLoreState } from '../../src/galore/galore.ts';
import { createOptimizer, type OptimizerOptions } from '../../src/galore/index.ts';
import type { AdamMoments, EightBitOptions } from '../../src/galore/moments.ts';
import type { GradientProjector } from '../../src/galore/projector.ts';
import type { RuleOptimizer } from '../../src/galore/ruleOptimizer.ts';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { MemoryLedger } from '../../src/tensor/ledger.ts';
import { type Param, ParamStore } from '../../src/tensor/params.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { rng } from '../kernels/helpers.ts';

export function makeEngine(): Engine {
  return new Engine(new CpuBackend(), new MemoryLedger());
}

export function makeStore(): ParamStore {
  return new ParamStore(makeEngine());
}

/** Standard normal values from a seeded generator (Box–Muller). */
export function gaussian(seed: number, n: number, scale = 1): Float64Array {
  const random = rng(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u1 = Math.max(random(), 1e-12);
    out[i] = scale * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * random());
  }
  return out;
}

/** C = A·B (row-major), A r×k, B k×c, float64. */
export function matmulHost(A: ArrayLike<number>, B: ArrayLike<number>, r: number, k: number, c: number): Float64Array {
  const C = new Float64Array(r * c);
  for (let i = 0; i < r; i++) {
    for (let p = 0; p < k; p++) {
      const a = A[i * k + p]!;
      for (let j = 0; j < c; j++) C[i * c + j]! += a * B[p * c + j]!;
    }
  }
  return C;
}

export function transposeHost(A: ArrayLike<number>, r: number, c: number): Float64Array {
  const T = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) T[j * r + i] = A[i * c + j]!;
  return T;
}

/** A random m×n matrix of rank `rank`: (m×rank Gaussian)·(rank×n Gaussian)/√rank. */
export function lowRankMatrix(seed: number, m: number, n: number, rank: number): Float64Array {
  const A = gaussian(seed, m * rank);
  const B = gaussian(seed + 1, rank * n);
  const C = matmulHost(A, B, m, rank, n);
  for (let i = 0; i < C.length; i++) C[i]! /= Math.sqrt(rank);
  return C;
}

export function frobenius(A: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < A.length; i++) sum += A[i]! * A[i]!;
  return Math.sqrt(sum);
}

export function maxAbsDiff(A: ArrayLike<number>, B: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < A.length; i++) worst = Math.max(worst, Math.abs(A[i]! - B[i]!));
  return worst;
}

export function subtract(A: ArrayLike<number>, B: ArrayLike<number>): Float64Array {
  const out = new Float64Array(A.length);
  for (let i = 0; i < A.length; i++) out[i] = A[i]! - B[i]!;
  return out;
}

/** The AdamW-family optimizer the options describe: galore-adamw8bit, adamw, … (src/galore registry). */
export function adamFamily(
  store: ParamStore | readonly Param[], options: Omit<OptimizerOptions, 'galore' | 'eightBit'> & { galore?: GaLoreSettings | null; eightBit?: boolean | Partial<EightBitOptions> },
): RuleOptimizer {
  const { galore, eightBit, ...rest } = options;
  const name = `${galore ? 'galore-' : ''}adamw${eightBit ? '8bit' : ''}`;
  return createOptimizer(name, store, { ...rest, ...(galore ? { galore } : {}), ...(eightBit ? { eightBit } : {}) }) as RuleOptimizer;
}

/** A parameter's GaLore projector (null: not a target, or no update yet). */
export function projectorOf(optimizer: RuleOptimizer, param: Param): GradientProjector | null {
  const state = optimizer.stateOf(param)?.rule as Partial<GaLoreState> | undefined;
  return state?.projector ?? null;
}

/** A parameter's Adam moments, under GaLore or not (null before its first update). */
export function momentsOf(optimizer: RuleOptimizer, param: Param): AdamMoments | null {
  const state = optimizer.stateOf(param)?.rule as (Partial<GaLoreState> & object) | undefined;
  if (!state) return null;
  return ('inner' in state ? state.inner : state) as AdamMoments;
}
