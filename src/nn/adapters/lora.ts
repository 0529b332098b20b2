/**
 * LoRA (Hu et al. 2021, arXiv:2106.09685, eq. 3): y ← y + (α/r)·x·Aᵀ·Bᵀ, A [r, in], B [out, r], with
 * A ~ U(−1/√in, 1/√in) (PyTorch's kaiming_uniform_(a=√5), as MeZO's lora.py and PEFT) and B = 0,
 * so the model's output is unchanged at initialisation. Defaults r = 8, α = 16 on the query and
 * value projections (MeZO App. E.5; zo-estimators.md §1.3).
 *
 * Fused projections declare their output slices (Linear.parts: zolo's attn.qkv and GPT-2's c_attn
 * are q | k | v). A target naming one slice ('attn.c_attn.q') adapts that slice only; a target
 * naming the whole fused Linear adapts the slices it declares as `wholeTarget` (zolo's attn.qkv: q
 * and v — the paper's targets and parameter count, 2·r·(d + d) per layer, not k) or, with none,
 * the whole output as one adapter. The factors of the adapted slices are stored stacked: A
 * [parts, r, in] and Bᵀ [parts, r, width]. Each forward builds the [parts·r, slices·width] block
 * matrix M = mask ⊙ Bᵀ (part j's Bᵀ in the columns of its slice, zeros elsewhere) with one
 * broadcast multiply by a constant 0/1 mask, then Δy = (x·Aᵀ)·M — plain differentiable ops, so it
 * runs on any backend and under the tape.
 */
import seedrandom from 'seedrandom';
import { ConfigError } from '../../errors.ts';
import type { Param, ParamStore } from '../../tensor/params.ts';
import type { MemoryCategory } from '../../tensor/ledger.ts';
import type { Engine, Tensor } from '../../tensor/tensor.ts';
import * as F from '../functional.ts';
import type { Linear, OutputAdapter } from '../linear.ts';

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

export interface LoraAdapter {
  readonly site: string;
  /** [parts, r, in] */
  readonly a: Param;
  /** [parts, r, out / slices] — Bᵀ per adapted part */
  readonly bT: Param;
  readonly scale: number;
  readonly params: readonly Param[];
}

/**
 * The output slices of `linear` and the indices of the adapted ones: the named part targets, else
 * the Linear's `wholeTarget` slices, else its whole output as one slice.
 */
function adaptedSlices(linear: Linear, partNames: readonly string[] | null): { slices: number; parts: number[] } {
  const names = partNames ?? linear.parts?.wholeTarget ?? null;
  if (!names) return { slices: 1, parts: [0] };
  const all = linear.parts?.names ?? [];
  const unknown = names.filter((part) => !all.includes(part));
  if (unknown.length > 0) {
    throw new ConfigError(`${linear.name}: LoRA part ${JSON.stringify(unknown[0])} is not one of its output slices (${all.length > 0 ? all.join(', ') : 'none: not a fused projection'})`);
  }
  return { slices: all.length, parts: all.flatMap((part, i) => (names.includes(part) ? [i] : [])) };
}

/**
 * Registers `${linear.name}.lora.{A,B}` (group 'adapter') and pushes the LoRA branch onto its output
 * adapters. `partNames` (slices of a fused Linear, e.g. ['q', 'v']) restricts it to those slices.
 */
export function attachLora(store: ParamStore, linear: Linear, options: LoraOptions, seed: number, partNames: readonly string[] | null = null): LoraAdapter {
  const name = `${linear.name}.lora`;
  const { rank, alpha } = options;
  if (!Number.isInteger(rank) || rank < 1) throw new ConfigError(`${name}: rank must be a positive integer, got ${rank}`);
  if (!(Number.isFinite(alpha) && alpha > 0)) throw new ConfigError(`${name}: alpha must be a positive finite number, got ${alpha}`);
  const inFeatures = linear.inFeatures;
  const { slices, parts } = adaptedSlices(linear, partNames);
  const fused = slices > 1;
  if (linear.outFeatures % slices !== 0) throw new ConfigError(`${name}: fused output of ${linear.outFeatures} features is not divisible into ${slices} equal slices`);
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
  const branch: OutputAdapter = Object.assign(
    (input: Tensor, output: Tensor) => loraForward(input, output, a.tensor, bT.tensor, mask, adapter.scale),
    { additive: true as const },
  );
  linear.outputAdapters.push(branch);
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
