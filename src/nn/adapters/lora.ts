/**
 * LoRA (Hu et al. 2021, arXiv:2106.09685, eq. 3): y ← y + (α/r)·x·Aᵀ·Bᵀ, A [r, in], B [out, r], with
 * A ~ U(−1/√in, 1/√in) (PyTorch's kaiming_uniform_(a=√5), as MeZO's lora.py and PEFT) and B = 0,
 * so the model's output is unchanged at initialisation. Defaults r = 8, α = 16 on the query and
 * value projections (MeZO App. E.5; zo-estimators.md §1.3).
 *
 * zolo fuses q, k, v into one Linear `attn.qkv` with output columns (q | k | v). LoRA goes on the q
 * and v thirds only — the paper's targets and parameter count (2·r·(d + d) per layer), not the
 * whole fused output (which would also adapt k). The two factors are stored stacked: A [2, r, d]
 * (A_q, A_v) and Bᵀ [2, r, d] (B_qᵀ, B_vᵀ). Each forward builds the [2r, 3d] block matrix
 * M = mask ⊙ Bᵀ (B_qᵀ in the q columns, B_vᵀ in the v columns, zeros for k) with one broadcast
 * multiply by a constant 0/1 mask, then Δy = (x·Aᵀ)·M — plain differentiable ops, so it runs on any
 * backend and under the tape. Any other Linear gets ordinary LoRA on its whole output.
 */
import seedrandom from 'seedrandom';
import { ConfigError } from '../../errors.ts';
import type { Param, ParamStore } from '../../tensor/params.ts';
import type { MemoryCategory } from '../../tensor/ledger.ts';
import type { Engine, Tensor } from '../../tensor/tensor.ts';
import * as F from '../functional.ts';
import type { Linear } from '../linear.ts';

export interface LoraOptions {
  /** module-path suffixes of the Linears to adapt */
  targets: readonly string[];
  /** r */
  rank: number;
  /** α; the update is scaled by α/r */
  alpha: number;
}

/** r = 8, α = 16 on q and v: MeZO's LoRA setting (arXiv:2305.17333 App. E.5 [P]; run.py defaults [C]). */
export const LORA_DEFAULTS: LoraOptions = { targets: ['attn.qkv'], rank: 8, alpha: 16 };

/** Fused projections whose output is (q | k | v): LoRA touches the q and v thirds. */
const FUSED_QKV_SUFFIX = 'qkv';
const QKV_ADAPTED_PARTS = [0, 2] as const;

export interface LoraAdapter {
  readonly site: string;
  /** [parts, r, in] */
  readonly a: Param;
  /** [parts, r, out / slices] — Bᵀ per adapted part */
  readonly bT: Param;
  readonly scale: number;
  readonly params: readonly Param[];
}

/** Registers `${linear.name}.lora.{A,B}` (group 'adapter') and pushes the LoRA branch onto its output adapters. */
export function attachLora(store: ParamStore, linear: Linear, options: LoraOptions, seed: number): LoraAdapter {
  const name = `${linear.name}.lora`;
  const { rank, alpha } = options;
  if (!Number.isInteger(rank) || rank < 1) throw new ConfigError(`${name}: rank must be a positive integer, got ${rank}`);
  if (!(Number.isFinite(alpha) && alpha > 0)) throw new ConfigError(`${name}: alpha must be a positive finite number, got ${alpha}`);
  const inFeatures = linear.inFeatures;
  const fused = linear.name.endsWith(FUSED_QKV_SUFFIX);
  const slices = fused ? 3 : 1;
  const parts: readonly number[] = fused ? QKV_ADAPTED_PARTS : [0];
  if (linear.outFeatures % slices !== 0) throw new ConfigError(`${name}: fused output of ${linear.outFeatures} features is not divisible into q, k, v`);
  const width = linear.outFeatures / slices;
  if (rank > Math.min(inFeatures, width)) throw new ConfigError(`${name}: rank ${rank} exceeds min(in, out) = ${Math.min(inFeatures, width)}`);

  const uniform = seedrandom(`zolo-lora:${seed}:${name}`);
  const bound = 1 / Math.sqrt(inFeatures);
  const aValues = Float32Array.from({ length: parts.length * rank * inFeatures }, () => (2 * uniform() - 1) * bound);
  const a = store.add(`${name}.A`, 'adapter', [parts.length, rank, inFeatures], aValues);
  const bT = store.add(`${name}.B`, 'adapter', [parts.length, rank, width], new Float32Array(parts.length * rank * width));
  const adapter: LoraAdapter = { site: linear.name, a, bT, scale: alpha / rank, params: [a, bT] };

  // Constant 0/1 placement [parts, r, slices, width]: part j's Bᵀ goes to output slice parts[j]. Frozen
  // data, so charged to 'weights' (scopes never free it); 'adapter' then counts exactly the LoRA factors.
  const mask = fused ? placementMask(store.engine, parts, rank, slices, width, 'weights') : null;
  linear.outputAdapters.push((input, output) => loraForward(input, output, a.tensor, bT.tensor, mask, adapter.scale));
  return adapter;
}

/**
 * y + scale·(x·Aᵀ)·M for x [..., in], y [..., out], A [parts, r, in], Bᵀ [parts, r, width]:
 * M = mask ⊙ Bᵀ [parts·r, slices·width] when a placement mask is given, else M = Bᵀ (parts = 1).
 */
export function loraForward(input: Tensor, output: Tensor, a: Tensor, bT: Tensor, mask: Tensor | null, scale: number): Tensor {
  const [parts, rank, inFeatures] = a.shape as [number, number, number];
  const width = bT.shape[2]!;
  const rows = F.reshape(input, [input.size / inFeatures, inFeatures]);
  const down = F.matmul(rows, F.reshape(a, [parts * rank, inFeatures]), { transB: true }); // [rows, parts·r]
  const upMatrix = mask
    ? F.reshape(F.mul(mask, F.reshape(bT, [parts, rank, 1, width])), [parts * rank, mask.shape[2]! * width])
    : F.reshape(bT, [rank, width]);
  const delta = F.scale(F.matmul(down, upMatrix), scale);
  return F.add(output, F.reshape(delta, output.shape));
}

/** Constant 0/1 tensor [parts, r, slices, width] with ones where part j's rows meet output slice parts[j]. */
export function placementMask(engine: Engine, parts: readonly number[], rank: number, slices: number, width: number, category: MemoryCategory): Tensor {
  const values = new Float32Array(parts.length * rank * slices * width);
  parts.forEach((slice, j) => {
    for (let i = 0; i < rank; i++) values.fill(1, ((j * rank + i) * slices + slice) * width, ((j * rank + i) * slices + slice + 1) * width);
  });
  return engine.fromArray(values, [parts.length, rank, slices, width], category);
}
