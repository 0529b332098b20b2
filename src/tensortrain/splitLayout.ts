/**
 * AdaZeta/LoRETTA's "tensorized linear" layout (spec §1.2): the weight W ∈ ℝ^{in×out} (y = x·W + b)
 * is reshaped row-major to the tensor [in-modes ‖ out-modes] and stored as a 3-way TT with every
 * inner rank r. This is NOT a TT-matrix (ttMatrix.ts): contracting the in-mode cores gives
 * L ∈ ℝ^{in×r_p} and the out-mode cores R ∈ ℝ^{r_p×out}, with W = L·R, so rank(W) ≤ r_p.
 * The "fast-forward" y = (x·L)·R + b (reference `forward_tt_full_precision`) costs
 * B·r·(in + out) multiply-adds plus building L and R.
 */
import { ConfigError, ShapeError } from '../errors.ts';
import { type Matrix64, matmulRaw, product } from './dense.ts';
import { randomTT, type Uniform } from './random.ts';
import { ttParamCount, type TTTensor, ttToFull } from './ttTensor.ts';

export interface TTLinearSpec {
  inFeatures: number;
  outFeatures: number;
  /** factorisation of inFeatures, e.g. [8, 16] for 128 */
  inModes: readonly number[];
  /** factorisation of outFeatures */
  outModes: readonly number[];
  /** every inner TT rank (the reference uses one rank r for all boundaries, even where r exceeds an unfolding's rank) */
  rank: number;
}

export interface TTLinearLayout extends TTLinearSpec {
  /** [in-modes ‖ out-modes] */
  readonly shape: readonly number[];
  /** [1, r, …, r, 1] */
  readonly ranks: readonly number[];
}

/** Validates a layout; errors name the layer and the numbers. */
export function ttLinearLayout(spec: TTLinearSpec, layer: string): TTLinearLayout {
  const { inFeatures, outFeatures, inModes, outModes, rank } = spec;
  for (const [field, modes] of [['inModes', inModes], ['outModes', outModes]] as const) {
    if (modes.length === 0 || modes.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new ShapeError(`${layer}: ${field} must be a non-empty list of positive integers, got [${modes.join(', ')}]`);
    }
  }
  if (product(inModes) !== inFeatures) {
    throw new ShapeError(`${layer}: inModes [${inModes.join('·')}] multiply to ${product(inModes)}, but the layer has ${inFeatures} input features`);
  }
  if (product(outModes) !== outFeatures) {
    throw new ShapeError(`${layer}: outModes [${outModes.join('·')}] multiply to ${product(outModes)}, but the layer has ${outFeatures} output features`);
  }
  if (!Number.isInteger(rank) || rank < 1) throw new ConfigError(`${layer}: TT rank must be a positive integer, got ${rank}`);
  const d = inModes.length + outModes.length;
  return { ...spec, shape: [...inModes, ...outModes], ranks: [1, ...new Array<number>(d - 1).fill(rank), 1] };
}

/** Σ_k r_{k−1} n_k r_k over the d = |inModes| + |outModes| cores (bias not included). */
export function ttLinearParamCount(layout: TTLinearLayout): number {
  return ttParamCount(layout.shape, layout.ranks);
}

/**
 * Std of the entries of core k at the reference initialisation (spec §1.2, low_rank_tensors.py
 * `build_factors_Gaussian`): τ^{1/d}/√r_k with τ = √(1/(in+out)) and r_k the core's right rank.
 * Then E[W_ij²] = τ²·∏_{k<d} r_k / ∏_{k≤d} r_k = 1/(in + out), since r_d = 1.
 */
export function referenceCoreStd(layout: TTLinearLayout, k: number): number {
  const d = layout.shape.length;
  const tau = Math.sqrt(1 / (layout.inFeatures + layout.outFeatures));
  return tau ** (1 / d) / Math.sqrt(layout.ranks[k + 1]!);
}

/**
 * L = contraction of the in-mode cores, [in, r_p]; R = contraction of the out-mode cores, [r_p, out]
 * (p = |inModes|). L·R equals reshape(full(cores), in, out) up to float64 rounding.
 */
export function splitFactors(tt: TTTensor, inModeCount: number): { left: Matrix64; right: Matrix64 } {
  const d = tt.cores.length;
  if (!(inModeCount >= 1 && inModeCount < d)) {
    throw new ShapeError(`splitFactors: the split after ${inModeCount} in-modes must leave at least one core on each side of the ${d} cores`);
  }
  let left = tt.cores[0]!.data;
  let rows = tt.shape[0]!;
  for (let k = 1; k < inModeCount; k++) {
    const [r0, n, r1] = tt.cores[k]!.shape;
    left = matmulRaw(left, tt.cores[k]!.data, rows, r0, n * r1);
    rows *= n;
  }
  const boundary = tt.ranks[inModeCount]!;
  // Right factor: contract from the last core leftwards, [r_{k−1}, n_k ⋯ n_d].
  let right = tt.cores[d - 1]!.data;
  let cols = tt.shape[d - 1]!;
  for (let k = d - 2; k >= inModeCount; k--) {
    const [r0, n, r1] = tt.cores[k]!.shape;
    right = matmulRaw(tt.cores[k]!.data, right, r0 * n, r1, cols);
    cols *= n;
  }
  return { left: { rows, cols: boundary, data: left }, right: { rows: boundary, cols, data: right } };
}

/** The dense weight W [in, out] = reshape(full(tt), in, out). */
export function splitLayoutWeight(tt: TTTensor, inModeCount: number): Matrix64 {
  const rows = product(tt.shape.slice(0, inModeCount));
  return { rows, cols: product(tt.shape.slice(inModeCount)), data: ttToFull(tt).data };
}

export interface TTLinearInit {
  readonly cores: TTTensor;
  /** [out] */
  readonly bias: Float64Array;
}

/**
 * Reference initialisation (spec §1.2): core entries N(0,1)·referenceCoreStd, bias U(−1/√out, 1/√out).
 * `zeroOutput` instead zeroes the last (output-side) core and the bias, so W = L·R = 0 and the
 * layer outputs exactly 0 while the other cores keep their random values — the zolo option that
 * makes AdaZeta's adapter start as the identity (the reference does not).
 */
export function initTTLinear(layout: TTLinearLayout, uniform: Uniform, zeroOutput = false): TTLinearInit {
  const d = layout.shape.length;
  const cores = randomTT(layout.shape, layout.ranks, uniform, (k) => (zeroOutput && k === d - 1 ? 0 : referenceCoreStd(layout, k)));
  const bound = 1 / Math.sqrt(layout.outFeatures);
  const bias = zeroOutput ? new Float64Array(layout.outFeatures) : Float64Array.from({ length: layout.outFeatures }, () => (2 * uniform() - 1) * bound);
  return { cores, bias };
}
