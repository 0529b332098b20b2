/**
 * LoRA on the slices of GPT-2's fused c_attn (q | k | v): a target naming 'attn.c_attn.q' changes
 * only the q columns of c_attn's output; q and v targets share one stacked adapter per layer; the
 * merged Hugging Face export holds W + (α/r)·B·A in exactly the adapted rows and logits equal to
 * the adapted model's. Fixture: the committed random GPT-2 (d 32, 2 layers).
 *
 * Tolerances: a float32 dot product of n terms is within γ_n·Σ|terms| of the exact value, γ_n =
 * n·u/(1 − n·u), u = 2⁻²⁴ (Higham, Accuracy and Stability of Numerical Algorithms, §3.1); the
 * expectations are computed in float64 from the same float32 inputs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CpuBackend } from '../../../src/kernels/cpu.ts';
import { attachAdapters, type LoraAdapter, TT_ADAPTER_DEFAULTS } from '../../../src/nn/adapters/index.ts';
import type { DecoderLm } from '../../../src/nn/architectures/decoderLm.ts';
import { loadHfModel } from '../../../src/nn/hf/load.ts';
import { saveHfModel } from '../../../src/nn/hf/save.ts';
import { Engine } from '../../../src/tensor/tensor.ts';
import { mulberry, normals } from '../gradcheck.ts';
import { FIXTURES, reference } from './fixtures.ts';

const SOURCE = join(FIXTURES, 'gpt2');
const D = 32;
const RANK = 2;
const ALPHA = 4;
const SCALE = ALPHA / RANK;
const U = 2 ** -24;
const gamma = (n: number): number => (n * U) / (1 - n * U);
const root = mkdtempSync(join(tmpdir(), 'zolo-gpt2-lora-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function adapted(targets: string[]): Promise<{ model: DecoderLm; adapters: LoraAdapter[] }> {
  const model = await loadHfModel(SOURCE, new Engine(new CpuBackend()));
  const adapters = attachAdapters(model, { kind: 'lora', targets, rank: RANK, alpha: ALPHA }, 3).adapters as LoraAdapter[];
  // B = 0 at initialisation would make every check trivial: give B values of A's size
  adapters.forEach((adapter, i) => model.engine.backend.write(adapter.bT.tensor.buffer, normals(mulberry(20 + i), adapter.bT.tensor.size, 0.3)));
  return { model, adapters };
}

/** c_attn of layer 0 on random rows x [rows, d]: its output with the adapters, and without them. */
function cAttnOutputs(model: DecoderLm, rows: number): { x: Float32Array; withAdapter: Float32Array; plain: Float32Array } {
  const linear = model.linears().get('transformer.h.0.attn.c_attn')!;
  const x = normals(mulberry(8), rows * D);
  const input = model.engine.fromArray(x, [rows, D], 'activation');
  const withAdapter = linear.forward(input).readSync();
  const saved = linear.outputAdapters.splice(0);
  const plain = linear.forward(input).readSync();
  linear.outputAdapters.push(...saved);
  return { x, withAdapter, plain };
}

describe('LoRA on the q, k, v slices of GPT-2\'s c_attn', () => {
  test('a q-only adapter changes the q columns by (α/r)·x·Aᵀ·Bᵀ and leaves k and v bit-identical', async () => {
    const { model, adapters } = await adapted(['attn.c_attn.q']);
    expect(adapters.map((a) => a.site)).toEqual(['transformer.h.0.attn.c_attn', 'transformer.h.1.attn.c_attn']);
    expect(adapters[0]!.a.tensor.shape).toEqual([1, RANK, D]);
    expect(adapters[0]!.bT.tensor.shape).toEqual([1, RANK, D]);
    const rows = 3;
    const { x, withAdapter, plain } = cAttnOutputs(model, rows);
    const a = adapters[0]!.a.tensor.readSync();
    const bT = adapters[0]!.bT.tensor.readSync();
    for (let row = 0; row < rows; row++) {
      for (let col = 0; col < 3 * D; col++) {
        const at = row * 3 * D + col;
        if (col >= D) {
          expect(withAdapter[at], `k/v column ${col}`).toBe(plain[at]);
          continue;
        }
        let delta = 0;
        let magnitude = 0;
        for (let k = 0; k < RANK; k++) {
          let down = 0;
          let downMagnitude = 0;
          for (let i = 0; i < D; i++) {
            down += x[row * D + i]! * a[k * D + i]!;
            downMagnitude += Math.abs(x[row * D + i]! * a[k * D + i]!);
          }
          delta += down * bT[k * D + col]!;
          magnitude += downMagnitude * Math.abs(bT[k * D + col]!);
        }
        // plain is the same float32 value on both sides; the branch adds γ_(d+r+1)·(α/r)·Σ|x a b|, the final add u·|y|
        const expected = plain[at]! + SCALE * delta;
        expect(Math.abs(withAdapter[at]! - expected), `q column ${col}`).toBeLessThanOrEqual(gamma(D + RANK + 1) * SCALE * magnitude + U * Math.abs(expected));
        expect(withAdapter[at]).not.toBe(plain[at]);
      }
    }
  });

  test('q and v targets share one stacked adapter per layer: 2·r·(d + d) parameters, k untouched', async () => {
    const { model, adapters } = await adapted(['attn.c_attn.v', 'attn.c_attn.q']);
    expect(adapters).toHaveLength(2);
    expect(adapters[0]!.a.tensor.shape).toEqual([2, RANK, D]);
    expect(model.params.count(true)).toBe(2 * 2 * RANK * (D + D));
    const { withAdapter, plain } = cAttnOutputs(model, 2);
    for (let row = 0; row < 2; row++) {
      for (let col = D; col < 2 * D; col++) expect(withAdapter[row * 3 * D + col]).toBe(plain[row * 3 * D + col]);
      expect(withAdapter.subarray(row * 3 * D, row * 3 * D + D)).not.toEqual(plain.subarray(row * 3 * D, row * 3 * D + D));
      expect(withAdapter.subarray(row * 3 * D + 2 * D, (row + 1) * 3 * D)).not.toEqual(plain.subarray(row * 3 * D + 2 * D, (row + 1) * 3 * D));
    }
  });

  test('the merged export holds W + (α/r)·B·A in the q and v rows only and gives the adapted model\'s logits', async () => {
    const { model, adapters } = await adapted(['attn.c_attn.q', 'attn.c_attn.v']);
    const base = await loadHfModel(SOURCE, new Engine(new CpuBackend()));
    const out = join(root, 'merged');
    await saveHfModel(model, out, { sourceDir: SOURCE });
    const merged = await loadHfModel(out, new Engine(new CpuBackend()));
    expect(merged.params.all().some((p) => p.group === 'adapter')).toBe(false);

    for (const [layer, adapter] of adapters.entries()) {
      const name = `transformer.h.${layer}.attn.c_attn.weight`;
      const before = base.params.tensor(name).readSync(); // [3d, d]
      const after = merged.params.tensor(name).readSync();
      const a = adapter.a.tensor.readSync(); // [2, r, d]: q, v
      const bT = adapter.bT.tensor.readSync(); // [2, r, d]
      for (let out = 0; out < 3 * D; out++) {
        const slice = Math.floor(out / D);
        for (let i = 0; i < D; i++) {
          const at = out * D + i;
          if (slice === 1) {
            expect(after[at], `k row ${out}`).toBe(before[at]);
            continue;
          }
          const part = slice === 0 ? 0 : 1;
          let delta = 0;
          let magnitude = 0;
          for (let k = 0; k < RANK; k++) {
            const term = bT[(part * RANK + k) * D + (out % D)]! * a[(part * RANK + k) * D + i]!;
            delta += term;
            magnitude += Math.abs(term);
          }
          const expected = before[at]! + SCALE * delta;
          expect(Math.abs(after[at]! - expected), `${name}[${out}, ${i}]`).toBeLessThanOrEqual(gamma(RANK + 2) * SCALE * magnitude + U * Math.abs(expected));
        }
      }
    }
    for (const [name, values] of await base.params.snapshot()) {
      if (!name.endsWith('attn.c_attn.weight')) expect(merged.params.tensor(name).readSync(), name).toEqual(values);
    }

    // x·(W + ΔW)ᵀ and x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ differ by the rounding of differently ordered sums:
    // γ_(d+r)·Σ|terms| with |terms| ≲ 1 in this d = 32 model, ≈ 2e-6 per projection, a few layers deep
    const ids = Int32Array.from(reference('gpt2').sequences[0]!);
    const batch = { ids, batch: 1, seq: ids.length };
    const adaptedLogits = model.forward(batch).readSync();
    const mergedLogits = merged.forward(batch).readSync();
    const baseLogits = base.forward(batch).readSync();
    let largest = 0;
    for (let i = 0; i < adaptedLogits.length; i++) largest = Math.max(largest, Math.abs(adaptedLogits[i]! - mergedLogits[i]!));
    expect(largest).toBeLessThan(1e-5);
    expect(mergedLogits).not.toEqual(baseLogits);
  });

  test('bad slice targets fail naming the target and the slices', async () => {
    const model = await loadHfModel(SOURCE, new Engine(new CpuBackend()));
    const lora = { kind: 'lora' as const, rank: RANK, alpha: ALPHA };
    expect(() => attachAdapters(model, { ...lora, targets: ['attn.c_attn.x'] })).toThrow(/no Linear matches "attn\.c_attn\.x"; the model has transformer\.h\.0\.attn\.c_attn \(parts q, k, v\)/);
    expect(() => attachAdapters(model, { ...lora, targets: ['attn.c_attn', 'attn.c_attn.q'] })).toThrow(/adapts a slice of transformer\.h\.0\.attn\.c_attn, which another target adapts whole/);
    expect(() => attachAdapters(model, { ...lora, targets: ['attn.c_attn.q', 'attn.c_attn'] })).toThrow(/adapts all of transformer\.h\.0\.attn\.c_attn, which other targets adapt in slices/);
    expect(() => attachAdapters(model, { kind: 'tt', ...TT_ADAPTER_DEFAULTS, targets: ['attn.c_attn.q'] })).toThrow(/only LoRA adapters can target \(got kind "tt"\)/);
    expect(model.params.all().some((p) => p.group === 'adapter')).toBe(false);
  });
});
