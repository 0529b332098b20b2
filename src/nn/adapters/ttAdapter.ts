/**
 * AdaZeta's tensorized adapter (spec adazeta-tensortrain.md §1.2; LoRETTA_adp with LayerNorm frozen):
 *     A(h) = h + s · U( relu( Dn(h) ) ),   Dn: ℝ^H → ℝ^b,  U: ℝ^b → ℝ^H,
 * each of Dn and U a "tensorized linear" y = x·W + bias whose W [in, out] is stored as 3-way TT
 * cores over [in-modes ‖ out-modes] with every inner rank r (splitLayout.ts). Placement (RoBERTa,
 * Houlsby): on the outputs of attn.proj and mlp.fc2, before the residual add.
 *
 * Forward, every call, on the kernel layer through the differentiable ops (so it runs on any
 * backend and under the tape): L = contraction of the in-mode cores [in, r], R = contraction of
 * the out-mode cores [r, out], then y = (x·L)·R + bias — the reference's "fast-forward" split
 * (layers.py `forward_tt_full_precision`), B·r·(in + out) multiply-adds plus building L and R.
 *
 * Initialisation: the reference's (core entries N(0,1)·τ^{1/d}/√r_k, τ = √(1/(in+out)); bias
 * U(−1/√out, 1/√out)), so A is NOT the identity at start: the pretrained model's output moves by
 * s·U(relu(Dn(h))) (E[W_ij²] = 1/(in+out) per layer). `identityInit` zeroes U's output-side core
 * and bias, so U ≡ 0 and A(h) = h exactly while Dn keeps its random cores (ZO still moves U:
 * the central difference sees the U-core perturbation times the nonzero rest).
 */
import seedrandom from 'seedrandom';
import { ConfigError } from '../../errors.ts';
import type { Param, ParamStore } from '../../tensor/params.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { initTTLinear, ttLinearLayout, type TTLinearLayout } from '../../tensortrain/splitLayout.ts';
import * as F from '../functional.ts';
import type { Linear } from '../linear.ts';

export interface TTAdapterOptions {
  /** module-path suffixes of the Linears whose outputs get an adapter */
  targets: readonly string[];
  /** b, width of the bottleneck */
  bottleneck: number;
  /** r, every inner TT rank */
  rank: number;
  /** s, scale of the adapter branch */
  scale: number;
  /** factorisation of the hidden width H (Dn's in-modes; U's out-modes reversed); default balancedModes(H, 2) */
  hiddenModes?: readonly number[];
  /** factorisation of b (Dn's out-modes; U's in-modes reversed); default balancedModes(b, 2) */
  bottleneckModes?: readonly number[];
  /** zero U's last core and bias so the adapter starts as the identity (not the reference's init) */
  identityInit: boolean;
}

/**
 * Paper values: rank 5, s = 1, ReLU, Houlsby sites (spec §1.2). The paper's bottleneck 64 is for
 * H = 1024/4096; zolo's models are H = 128/256, so b = 16 keeps H/b ≥ 8 (RoBERTa: 16) — with
 * H = 128 that gives Dn [8·16 ‖ 4·4], U [4·4 ‖ 16·8], 1,264 parameters per adapter.
 */
export const TT_ADAPTER_DEFAULTS: TTAdapterOptions = {
  targets: ['attn.proj', 'mlp.fc2'],
  bottleneck: 16,
  rank: 5,
  scale: 1,
  identityInit: false,
};

/**
 * n split into `count` integer factors as equal as possible, ascending (128 → [8, 16], 16 → [4, 4],
 * 1024 → [32, 32]); the automatic factorisation users asked for (yifanycc/loretta#4).
 */
export function balancedModes(n: number, count: number): number[] {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(count) || count < 1) {
    throw new ConfigError(`balancedModes: need positive integers, got n = ${n}, count = ${count}`);
  }
  if (count === 1) return [n];
  const target = n ** (1 / count);
  let best = 1;
  for (let f = 1; f <= n; f++) {
    if (n % f === 0 && f <= target + 1e-9) best = f;
  }
  return [best, ...balancedModes(n / best, count - 1)].sort((a, b) => a - b);
}

/** One tensorized linear: its layout and its trainable cores and bias in the ParamStore. */
export interface TTLinearParams {
  readonly layout: TTLinearLayout;
  readonly cores: readonly Param[];
  readonly bias: Param;
}

export interface TTAdapter {
  /** the Linear it follows, e.g. 'blocks.0.attn.proj' */
  readonly site: string;
  readonly down: TTLinearParams;
  readonly up: TTLinearParams;
  readonly scale: number;
  readonly params: readonly Param[];
}

function registerTTLinear(store: ParamStore, name: string, layout: TTLinearLayout, uniform: () => number, zeroOutput: boolean): TTLinearParams {
  const init = initTTLinear(layout, uniform, zeroOutput);
  const cores = init.cores.cores.map((core, k) => store.add(`${name}.core${k}`, 'adapter', core.shape, core.data));
  const bias = store.add(`${name}.bias`, 'adapter', [layout.outFeatures], init.bias);
  return { layout, cores, bias };
}

/**
 * Registers Dn and U for the adapter after `linear` (parameters `${linear.name}.adapter.{down,up}.{core<k>,bias}`,
 * group 'adapter') and pushes A onto its output adapters. Layout errors name the layer and numbers.
 */
export function attachTTAdapter(store: ParamStore, linear: Linear, options: TTAdapterOptions, seed: number): TTAdapter {
  const hidden = linear.outFeatures;
  const b = options.bottleneck;
  const name = `${linear.name}.adapter`;
  if (!Number.isInteger(b) || b < 1) throw new ConfigError(`${name}: bottleneck must be a positive integer, got ${b}`);
  const hiddenModes = options.hiddenModes ?? balancedModes(hidden, 2);
  const bottleneckModes = options.bottleneckModes ?? balancedModes(b, 2);
  const downLayout = ttLinearLayout({ inFeatures: hidden, outFeatures: b, inModes: hiddenModes, outModes: bottleneckModes, rank: options.rank }, `${name}.down`);
  const upLayout = ttLinearLayout(
    { inFeatures: b, outFeatures: hidden, inModes: [...bottleneckModes].reverse(), outModes: [...hiddenModes].reverse(), rank: options.rank },
    `${name}.up`,
  );
  const uniform = seedrandom(`zolo-adapter:${seed}:${name}`);
  const down = registerTTLinear(store, `${name}.down`, downLayout, uniform, false);
  const up = registerTTLinear(store, `${name}.up`, upLayout, uniform, options.identityInit);
  const adapter: TTAdapter = { site: linear.name, down, up, scale: options.scale, params: [...down.cores, down.bias, ...up.cores, up.bias] };
  linear.outputAdapters.push((_input, output) => ttAdapterForward(adapter, output));
  return adapter;
}

/** A(h) = h + s·U(relu(Dn(h))) for h [..., H]. */
export function ttAdapterForward(adapter: TTAdapter, h: Tensor): Tensor {
  const hidden = h.shape[h.rank - 1]!;
  const rows = F.reshape(h, [h.size / hidden, hidden]);
  const inner = F.relu(ttLinearForward(adapter.down, rows));
  let branch = ttLinearForward(adapter.up, inner);
  if (adapter.scale !== 1) branch = F.scale(branch, adapter.scale);
  return F.reshape(F.add(rows, branch), h.shape);
}

/** y = (x·L)·R + bias for x [rows, in] → [rows, out]. */
export function ttLinearForward(layer: TTLinearParams, x: Tensor): Tensor {
  return splitLinearForward(x, layer.cores.map((core) => core.tensor), layer.bias.tensor, layer.layout.inModes.length);
}

/**
 * y = (x·L)·R + bias with L [in, r_p] the contraction of cores 0..p−1 and R [r_p, out] that of
 * cores p..d−1 (p = number of in-modes), built by matmuls of reshaped cores:
 * L ← reshape(L·reshape(G_k, r_{k−1}, n_k r_k)) left to right; R likewise from the last core leftwards.
 */
export function splitLinearForward(x: Tensor, cores: readonly Tensor[], bias: Tensor, inModeCount: number): Tensor {
  const d = cores.length;
  const shapeOf = (k: number) => cores[k]!.shape as [number, number, number];
  const [, firstMode, firstRank] = shapeOf(0);
  let rows = firstMode;
  let left = F.reshape(cores[0]!, [rows, firstRank]); // [n_1, r_1]
  for (let k = 1; k < inModeCount; k++) {
    const [r0, n, r1] = shapeOf(k);
    left = F.reshape(F.matmul(left, F.reshape(cores[k]!, [r0, n * r1])), [rows * n, r1]);
    rows *= n;
  }
  const [lastRank, lastMode] = shapeOf(d - 1);
  let cols = lastMode;
  let right = F.reshape(cores[d - 1]!, [lastRank, cols]); // [r_{d−1}, n_d]
  for (let k = d - 2; k >= inModeCount; k--) {
    const [r0, n, r1] = shapeOf(k);
    right = F.reshape(F.matmul(F.reshape(cores[k]!, [r0 * n, r1]), right), [r0, n * cols]);
    cols *= n;
  }
  return F.add(F.matmul(F.matmul(x, left), right), bias);
}
