import { describe, expect, test } from 'vitest';
import { ConfigError, ShapeError } from '../../src/errors.ts';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { attachAdapters, balancedModes, type LoraAdapter, LORA_DEFAULTS, loraForward, placementMask, splitLinearForward, TT_ADAPTER_DEFAULTS, type TTAdapter, ttAdapterForward } from '../../src/nn/adapters/index.ts';
import { CausalLm } from '../../src/nn/causalLm.ts';
import { type TransformerConfig, validateConfig } from '../../src/nn/config.ts';
import type { LanguageModelBatch } from '../../src/nn/batch.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { splitLayoutWeight, ttTensor } from '../../src/tensortrain/index.ts';
import { createEstimator } from '../../src/zo/index.ts';
import { ADAZETA_ADAPTERS } from '../../src/zo/presets/adazeta.ts';
import { MEZO_LORA_ADAPTERS } from '../../src/zo/presets/mezoLora.ts';
import { checkGradients, mulberry, normals } from './gradcheck.ts';

/** zolo's tiny width (d 128) with a short sequence and vocabulary to keep the tests fast. */
const CONFIG: TransformerConfig = validateConfig({ vocab: 64, dModel: 128, layers: 2, heads: 4, dFf: 256, seq: 8, layerNormEps: 1e-5, initStd: 0.02 });

function model(seed = 1): CausalLm {
  return new CausalLm(new Engine(new CpuBackend()), CONFIG, seed);
}

function batch(): LanguageModelBatch {
  const random = mulberry(7);
  const ids = Int32Array.from({ length: 2 * 8 }, () => Math.floor(random() * CONFIG.vocab));
  const targets = Int32Array.from({ length: 2 * 8 }, (_, i) => (i % 8 === 7 ? -1 : ids[i + 1]!));
  return { ids, batch: 2, seq: 8, targets };
}

function logits(m: CausalLm): Float32Array {
  const out = m.forward(batch());
  const values = out.readSync().slice();
  (out.base ?? out).dispose();
  return values;
}

function relativeChange(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    diff += (a[i]! - b[i]!) ** 2;
    ref += b[i]! ** 2;
  }
  return Math.sqrt(diff / ref);
}

/** Host float64 reference of A(h) = h + s·U(relu(Dn(h))) from the adapter's parameter values. */
function hostAdapter(adapter: TTAdapter, h: Float32Array, rows: number): Float64Array {
  const dense = (layer: TTAdapter['down']) => {
    const cores = layer.cores.map((p) => ({ shape: p.tensor.shape as unknown as [number, number, number], data: Float64Array.from(p.tensor.readSync()) }));
    return { w: splitLayoutWeight(ttTensor(cores), layer.layout.inModes.length), bias: layer.bias.tensor.readSync() };
  };
  const apply = (x: Float64Array, layer: ReturnType<typeof dense>, n: number) => {
    const { w, bias } = layer;
    const y = new Float64Array(n * w.cols);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < w.cols; j++) {
        let sum = bias[j]!;
        for (let i = 0; i < w.rows; i++) sum += x[r * w.rows + i]! * w.data[i * w.cols + j]!;
        y[r * w.cols + j] = sum;
      }
    }
    return y;
  };
  const x = Float64Array.from(h);
  const inner = apply(x, dense(adapter.down), rows).map((v) => Math.max(v, 0));
  const branch = apply(inner, dense(adapter.up), rows);
  return x.map((v, i) => v + adapter.scale * branch[i]!);
}

describe('AdaZeta TT adapters (spec §1.2)', () => {
  test('placement: one adapter after attn.proj and one after mlp.fc2 per block; only adapter params train', () => {
    const m = model();
    const baseCount = m.params.count();
    const attached = attachAdapters(m, ADAZETA_ADAPTERS, 3);
    expect(attached.sites).toEqual(['blocks.0.attn.proj', 'blocks.0.mlp.fc2', 'blocks.1.attn.proj', 'blocks.1.mlp.fc2']);
    // per adapter: Dn [8·16 ‖ 4·4] 560 + U [4·4 ‖ 16·8] 560 + biases 16 + 128 = 1264
    expect(attached.trainableCount).toBe(4 * 1264);
    expect(m.params.count(true)).toBe(4 * 1264);
    expect(m.params.count()).toBe(baseCount + 4 * 1264);
    expect(m.params.trainable().every((p) => p.group === 'adapter')).toBe(true);
    expect(m.engine.ledger.currentBytes('adapter')).toBe(4 * 1264 * 4);
    const first = attached.adapters[0] as TTAdapter;
    expect(first.down.cores.map((p) => p.tensor.shape)).toEqual([[1, 8, 5], [5, 16, 5], [5, 4, 5], [5, 4, 1]]);
    expect(first.up.cores.map((p) => p.tensor.shape)).toEqual([[1, 4, 5], [5, 4, 5], [5, 16, 5], [5, 8, 1]]);
  });

  test('forward on the kernel layer equals the float64 dense formula h + s·U(relu(Dn(h)))', () => {
    const m = model();
    const adapter = attachAdapters(m, ADAZETA_ADAPTERS, 3).adapters[0] as TTAdapter;
    const rows = 6;
    const h = normals(mulberry(11), rows * 128);
    const input = m.engine.fromArray(h, [2, 3, 128], 'activation');
    const out = ttAdapterForward(adapter, input);
    expect(out.shape).toEqual([2, 3, 128]);
    const expected = hostAdapter(adapter, h, rows);
    const got = out.readSync();
    // float32 kernels vs float64: sums of ≤ 128 products of O(1) terms, relative error ≲ 128·2⁻²⁴ ≈ 1e−5.
    let maxError = 0;
    let scale = 0;
    expected.forEach((v, i) => {
      maxError = Math.max(maxError, Math.abs(v - got[i]!));
      scale = Math.max(scale, Math.abs(v));
    });
    expect(maxError).toBeLessThan(1e-5 * scale);
  });

  test('reference init is not the identity; identityInit and zeroed cores/biases leave the model unchanged', () => {
    const base = logits(model());

    const reference = model();
    attachAdapters(reference, ADAZETA_ADAPTERS, 3);
    // The reference init (spec §1.2) adds U(relu(Dn(h))) with E[W²] = 1/(in+out) and nonzero biases:
    // the pretrained output moves. Measured here: a relative change of a few percent of the logits.
    const change = relativeChange(logits(reference), base);
    expect(change).toBeGreaterThan(1e-3);

    const identity = model();
    attachAdapters(identity, { ...ADAZETA_ADAPTERS, identityInit: true }, 3);
    expect(logits(identity)).toEqual(base); // h + 1·0 is exact in float32

    const zeroed = model();
    const attached = attachAdapters(zeroed, ADAZETA_ADAPTERS, 3);
    for (const param of attached.params) zeroed.engine.backend.write(param.tensor.buffer, new Float32Array(param.tensor.size));
    expect(logits(zeroed)).toEqual(base); // spec §3.13: cores and biases zeroed ⇒ A(h) = h
  });

  test('gradients flow through the split forward under the tape (central differences)', async () => {
    const random = mulberry(5);
    const shapes = [[1, 4, 3], [3, 2, 3], [3, 3, 2], [2, 2, 1]]; // in 4·2 = 8, out 3·2 = 6, ranks 3 and 2
    const inputs = [
      { shape: [5, 8], values: normals(random, 40) },
      ...shapes.map((shape) => ({ shape, values: normals(random, shape[0]! * shape[1]! * shape[2]!, 0.7) })),
      { shape: [6], values: normals(random, 6) },
    ];
    await checkGradients('splitLinearForward', inputs, ([x, ...rest]) => splitLinearForward(x!, rest.slice(0, 4), rest[4]!, 2), 9, { terms: 16 });
  });

  test('layout and target errors name the layer and the numbers', () => {
    expect(() => attachAdapters(model(), { ...ADAZETA_ADAPTERS, hiddenModes: [8, 8] }, 1)).toThrow(ShapeError);
    expect(() => attachAdapters(model(), { ...ADAZETA_ADAPTERS, hiddenModes: [8, 8] }, 1)).toThrow(
      /blocks\.0\.attn\.proj\.adapter\.down: inModes \[8·8\] multiply to 64, but the layer has 128 input features/,
    );
    expect(() => attachAdapters(model(), { ...ADAZETA_ADAPTERS, bottleneckModes: [4, 8] }, 1)).toThrow(/outModes \[4·8\] multiply to 32, but the layer has 16 output features/);
    expect(() => attachAdapters(model(), { ...ADAZETA_ADAPTERS, rank: 0 }, 1)).toThrow(/TT rank must be a positive integer, got 0/);
    expect(() => attachAdapters(model(), { ...ADAZETA_ADAPTERS, bottleneck: -2 }, 1)).toThrow(ConfigError);
    expect(() => attachAdapters(model(), { ...ADAZETA_ADAPTERS, targets: ['attn.out'] }, 1)).toThrow(/no Linear matches "attn\.out"; the model has blocks\.0\.attn\.qkv/);
    const m = model();
    attachAdapters(m, ADAZETA_ADAPTERS, 1);
    expect(() => attachAdapters(m, ADAZETA_ADAPTERS, 1)).toThrow(/already registered/);
  });

  test('balancedModes factorises widths evenly, reproducing the paper\'s RoBERTa and Llama in-modes', () => {
    expect(balancedModes(128, 2)).toEqual([8, 16]);
    expect(balancedModes(16, 2)).toEqual([4, 4]);
    expect(balancedModes(1024, 3)).toEqual([8, 8, 16]);
    expect(balancedModes(4096, 3)).toEqual([16, 16, 16]);
    expect(balancedModes(7, 2)).toEqual([1, 7]);
    expect(() => balancedModes(0, 2)).toThrow(ConfigError);
  });

  test('defaults are the paper\'s rank 5 and scale 1 with bottleneck 16 for d = 128', () => {
    expect(TT_ADAPTER_DEFAULTS).toMatchObject({ rank: 5, scale: 1, bottleneck: 16, targets: ['attn.proj', 'mlp.fc2'], identityInit: false });
  });
});

describe('LoRA on the fused qkv (q and v slices)', () => {
  test('B = 0 leaves the model unchanged; r 8, α 16 give 2·8·(128 + 128) params per layer', () => {
    const base = logits(model());
    const m = model();
    const attached = attachAdapters(m, MEZO_LORA_ADAPTERS, 4);
    expect(LORA_DEFAULTS).toMatchObject({ rank: 8, alpha: 16 });
    expect(attached.sites).toEqual(['blocks.0.attn.qkv', 'blocks.1.attn.qkv']);
    expect(attached.trainableCount).toBe(2 * 2 * 8 * (128 + 128));
    expect(m.params.trainable().every((p) => p.group === 'adapter')).toBe(true);
    expect(m.engine.ledger.currentBytes('adapter')).toBe(2 * 2 * 8 * (128 + 128) * 4);
    expect(logits(m)).toEqual(base);
  });

  test('the update is (α/r)·x·A_pᵀ·B_pᵀ on the q and v columns and leaves k untouched', () => {
    const m = model();
    const adapter = attachAdapters(m, MEZO_LORA_ADAPTERS, 4).adapters[0] as LoraAdapter;
    const bValues = normals(mulberry(3), adapter.bT.tensor.size, 0.1);
    m.engine.backend.write(adapter.bT.tensor.buffer, bValues);
    const linear = m.linears().get('blocks.0.attn.qkv')!;
    const rows = 3;
    const x = normals(mulberry(8), rows * 128);
    const input = m.engine.fromArray(x, [rows, 128], 'activation');
    const adapted = linear.forward(input).readSync();
    const saved = linear.outputAdapters.splice(0);
    const plain = linear.forward(input).readSync();
    linear.outputAdapters.push(...saved);

    const a = adapter.a.tensor.readSync();
    const r = 8;
    for (let row = 0; row < rows; row++) {
      for (let col = 0; col < 384; col++) {
        const slice = Math.floor(col / 128);
        const j = col % 128;
        const part = slice === 0 ? 0 : slice === 2 ? 1 : -1;
        let expected = 0;
        if (part >= 0) {
          for (let k = 0; k < r; k++) {
            let u = 0;
            for (let i = 0; i < 128; i++) u += x[row * 128 + i]! * a[(part * r + k) * 128 + i]!;
            expected += u * bValues[(part * r + k) * 128 + j]!;
          }
          expected *= 16 / 8;
        }
        const delta = adapted[row * 384 + col]! - plain[row * 384 + col]!;
        // |Δ| ≈ 0.3; float32 rounding of the two products ≲ 1e−5 absolute here.
        expect(Math.abs(delta - expected)).toBeLessThan(2e-5);
      }
    }
  });

  test('gradients flow through the masked q/v update under the tape (central differences)', async () => {
    const random = mulberry(12);
    const inputs = [
      { shape: [3, 8], values: normals(random, 24) }, // x [rows, in]
      { shape: [3, 12], values: normals(random, 36) }, // y [rows, 3·width]
      { shape: [2, 2, 8], values: normals(random, 32) }, // A [parts, r, in]
      { shape: [2, 2, 4], values: normals(random, 16) }, // Bᵀ [parts, r, width]
    ];
    await checkGradients('loraForward', inputs, ([x, y, a, bT]) => {
      const mask = placementMask(x!.engine, [0, 2], 2, 3, 4, 'workspace');
      return loraForward(x!, y!, a!, bT!, mask, 2);
    }, 13, { terms: 16 });
  });

  test('slice targets on zolo\'s qkv: "attn.qkv.k" adapts k alone; "attn.qkv" whole stays q and v; "attention+mlp" is every projection', () => {
    const kOnly = model();
    const [adapter] = attachAdapters(kOnly, { ...MEZO_LORA_ADAPTERS, targets: ['attn.qkv.k'] }, 4).adapters as LoraAdapter[];
    expect(adapter!.a.tensor.shape).toEqual([1, 8, 128]);
    kOnly.engine.backend.write(adapter!.bT.tensor.buffer, normals(mulberry(3), adapter!.bT.tensor.size, 0.1));
    const linear = kOnly.linears().get('blocks.0.attn.qkv')!;
    const input = kOnly.engine.fromArray(normals(mulberry(8), 2 * 128), [2, 128], 'activation');
    const adapted = linear.forward(input).readSync();
    const saved = linear.outputAdapters.splice(0);
    const plain = linear.forward(input).readSync();
    linear.outputAdapters.push(...saved);
    for (let row = 0; row < 2; row++) {
      for (let col = 0; col < 384; col++) {
        const inK = col >= 128 && col < 256;
        if (inK) expect(adapted[row * 384 + col]).not.toBe(plain[row * 384 + col]);
        else expect(adapted[row * 384 + col]).toBe(plain[row * 384 + col]);
      }
    }
    expect((attachAdapters(model(), MEZO_LORA_ADAPTERS, 4).adapters[0] as LoraAdapter).a.tensor.shape).toEqual([2, 8, 128]);
    expect(attachAdapters(model(), { ...MEZO_LORA_ADAPTERS, targets: ['attention+mlp'] }, 4).sites).toEqual(
      [0, 1].flatMap((i) => ['attn.qkv', 'attn.proj', 'mlp.fc1', 'mlp.fc2'].map((p) => `blocks.${i}.${p}`)),
    );
  });

  test('bad LoRA settings are ConfigErrors', () => {
    expect(() => attachAdapters(model(), { ...MEZO_LORA_ADAPTERS, rank: 0 }, 1)).toThrow(/blocks\.0\.attn\.qkv\.lora: rank must be a positive integer, got 0/);
    expect(() => attachAdapters(model(), { ...MEZO_LORA_ADAPTERS, alpha: -1 }, 1)).toThrow(/alpha must be a positive finite number, got -1/);
    expect(() => attachAdapters(model(), { ...MEZO_LORA_ADAPTERS, rank: 200 }, 1)).toThrow(/rank 200 exceeds min\(in, out\) = 128/);
  });
});

describe('ZO over adapter parameters only', () => {
  for (const [method, spec] of [['adazeta', ADAZETA_ADAPTERS], ['mezo-lora', MEZO_LORA_ADAPTERS]] as const) {
    test(`${method}: a step moves adapter parameters and leaves every base parameter bit-identical`, async () => {
      const m = model();
      attachAdapters(m, spec, 2);
      const before = await m.params.snapshot();
      const estimator = createEstimator(method, { lr: 1e-2 });
      let state = estimator.init(m.params, { seed: 5 });
      const data = batch();
      const { state: next, record } = await estimator.step(state, { loss: () => m.loss(data), epoch: 0 });
      state = next;
      expect(record.queries).toBe(1);
      expect(record.forwardPasses).toBe(2);
      const after = await m.params.snapshot();
      for (const param of m.params.all()) {
        const changed = after.get(param.name)!.some((v, i) => v !== before.get(param.name)![i]);
        if (param.group !== 'adapter') expect(changed, param.name).toBe(false);
      }
      const adapterChanged = m.params.trainable().some((p) => after.get(p.name)!.some((v, i) => v !== before.get(p.name)![i]));
      expect(adapterChanged).toBe(true);
      estimator.dispose(state);
    });
  }
});
