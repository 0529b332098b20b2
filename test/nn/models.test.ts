/**
 * The models: shapes and parameter counts (matching torch_peer.py), presets and bad input,
 * deterministic init, whole-model gradients, agreement of every backend with cpu, ledger behaviour
 * of the inference path, padding/causality invariances and the prompt read-out.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { createBackend, registeredBackends } from '../../src/kernels/index.ts';
import {
  CausalLm, EncoderClassifier, type LanguageModelBatch, PromptClassifier, type TransformerConfig, Tape, createModel, disposeGrads, nextTokenTargets,
  presetConfig, release, valueAndGrad,
} from '../../src/nn/index.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { mulberry } from './gradcheck.ts';
import { checkModelGradients } from './modelGradcheck.ts';

const cpu = () => new Engine(new CpuBackend());

/** Reduced dims so the whole-model checks stay fast (every code path of the presets is exercised). */
const MINI: TransformerConfig = { vocab: 11, dModel: 8, layers: 1, heads: 2, dFf: 16, seq: 5, layerNormEps: 1e-5, initStd: 0.3 };

function randomIds(seed: number, count: number, vocab: number): Int32Array {
  const random = mulberry(seed);
  return Int32Array.from({ length: count }, () => Math.floor(random() * vocab));
}

describe('shapes and presets', () => {
  it('tiny and small parameter counts (torch_peer.py EncoderClassifier: 929,538 for tiny, vocab 4096)', () => {
    const engine = cpu();
    expect(createModel(engine, { kind: 'encoder-classifier', preset: 'tiny' }).params.count()).toBe(929_538);
    expect(createModel(engine, { kind: 'causal-lm', preset: 'tiny' }).params.count()).toBe(929_280);
    expect(createModel(engine, { kind: 'encoder-classifier', preset: 'small' }).params.count()).toBe(4_241_410);
    expect(createModel(engine, { kind: 'causal-lm', preset: 'small' }).params.count()).toBe(4_240_896);
  });

  it('names, shapes, groups and order follow the documented layout', () => {
    const model = new EncoderClassifier(cpu(), { ...MINI, layers: 1, classes: 3 });
    const layout = model.params.all().map((p) => `${p.name}:${p.group}:${p.tensor.shape.join('x')}`);
    expect(layout).toEqual([
      'tok.weight:embedding:11x8', 'pos.weight:embedding:5x8',
      'blocks.0.ln1.weight:norm:8', 'blocks.0.ln1.bias:norm:8',
      'blocks.0.attn.qkv.weight:attention:24x8', 'blocks.0.attn.qkv.bias:attention:24',
      'blocks.0.attn.proj.weight:attention:8x8', 'blocks.0.attn.proj.bias:attention:8',
      'blocks.0.ln2.weight:norm:8', 'blocks.0.ln2.bias:norm:8',
      'blocks.0.mlp.fc1.weight:mlp:16x8', 'blocks.0.mlp.fc1.bias:mlp:16',
      'blocks.0.mlp.fc2.weight:mlp:8x16', 'blocks.0.mlp.fc2.bias:mlp:8',
      'ln_f.weight:norm:8', 'ln_f.bias:norm:8', 'head.weight:head:3x8', 'head.bias:head:3',
    ]);
    expect([...model.linears().keys()]).toEqual(['blocks.0.attn.qkv', 'blocks.0.attn.proj', 'blocks.0.mlp.fc1', 'blocks.0.mlp.fc2', 'head']);
  });

  it('bad input: unknown preset, heads not dividing d, too long a sequence, ids outside the vocabulary', () => {
    expect(() => presetConfig('huge')).toThrow(new ConfigError('model preset must be one of tiny, small, got "huge"'));
    expect(() => presetConfig('tiny', { heads: 3 })).toThrow(/heads must divide model.dModel = 128, got 3/);
    const model = new CausalLm(cpu(), MINI);
    expect(() => model.forward({ ids: new Int32Array(6), batch: 1, seq: 6 })).toThrow(/batch.seq must be at most the model's sequence length 5, got 6/);
    expect(() => model.forward({ ids: Int32Array.from([1, 2, 11]), batch: 1, seq: 3 })).toThrow(/batch.ids\[2\] = 11 is outside the model's vocabulary of 11/);
  });

  it('initialisation is seeded: same seed, same weights; GPT-2 statistics', async () => {
    const a = await new CausalLm(cpu(), presetConfig('tiny'), 7).params.snapshot();
    const b = await new CausalLm(cpu(), presetConfig('tiny'), 7).params.snapshot();
    const c = await new CausalLm(cpu(), presetConfig('tiny'), 8).params.snapshot();
    expect(a.get('blocks.1.mlp.fc2.weight')).toEqual(b.get('blocks.1.mlp.fc2.weight'));
    expect(a.get('tok.weight')).not.toEqual(c.get('tok.weight'));
    const tok = a.get('tok.weight')!;
    let sq = 0;
    for (const x of tok) sq += x * x;
    // sample std of 524,288 N(0, 0.02²) draws: relative standard error 1/√(2n) ≈ 0.001; allow 5σ
    expect(Math.abs(Math.sqrt(sq / tok.length) / 0.02 - 1)).toBeLessThan(0.005);
    expect([...a.get('blocks.0.ln1.weight')!].every((x) => x === 1)).toBe(true);
    expect([...a.get('blocks.0.attn.qkv.bias')!].every((x) => x === 0)).toBe(true);
  });
});

describe('whole-model gradients equal central differences', () => {
  it('causal LM (tied embedding: gather + output head)', async () => {
    const model = new CausalLm(cpu(), MINI, 1);
    const batch = { ids: randomIds(1, 10, 11), batch: 2, seq: 5, lengths: Int32Array.from([5, 3]) };
    const lmBatch: LanguageModelBatch = { ...batch, targets: nextTokenTargets(batch) };
    expect(await checkModelGradients('lm', model, lmBatch, 11)).toBe(16);
  });

  it('encoder classifier with a padded row (key mask + masked mean-pool)', async () => {
    const model = new EncoderClassifier(cpu(), { ...MINI, classes: 3 }, 2);
    const batch = { ids: randomIds(2, 10, 11), batch: 2, seq: 5, lengths: Int32Array.from([2, 5]), labels: Int32Array.from([2, 0]) };
    expect(await checkModelGradients('encoder', model, batch, 12)).toBe(18);
  });

  it('prompt classifier (label-word logits at the last real position)', async () => {
    const model = new PromptClassifier(new CausalLm(cpu(), { ...MINI, layers: 2 }, 3), Int32Array.from([4, 9]));
    const batch = { ids: randomIds(3, 10, 11), batch: 2, seq: 5, lengths: Int32Array.from([4, 5]), labels: Int32Array.from([1, 0]) };
    expect(await checkModelGradients('prompt', model, batch, 13)).toBe(28);
  });
});

describe('forward', () => {
  const config: TransformerConfig = { ...presetConfig('tiny'), vocab: 97, dModel: 32, heads: 4, dFf: 64, seq: 16 };
  const batch = { ids: randomIds(4, 48, 97), batch: 3, seq: 16, lengths: Int32Array.from([16, 9, 1]), labels: Int32Array.from([0, 1, 1]) };

  it('every registered backend equals cpu (relative 1e-4 of the largest logit)', async () => {
    const reference = new EncoderClassifier(cpu(), { ...config, classes: 2 }, 5);
    const want = reference.forward(batch).readSync();
    for (const name of registeredBackends()) {
      const backend = await createBackend(name);
      try {
        const model = new EncoderClassifier(new Engine(backend), { ...config, classes: 2 }, 5);
        const got = await model.forward(batch).read();
        const scale = Math.max(...want.map(Math.abs));
        // f32 sums of ≤ d_ff = 64 terms through 2 blocks: rounding ≲ 64·u·|z| per op ≈ 4e-6 relative; 1e-4 leaves margin for other summation orders
        got.forEach((value, i) => expect(Math.abs(value - want[i]!), `${name} logit ${i}`).toBeLessThanOrEqual(1e-4 * scale + 1e-6));
      } finally {
        backend.dispose();
      }
    }
  });

  it('every registered backend gives the cpu gradients (relative 1e-3 of each tensor’s largest entry)', async () => {
    const gradsOn = async (engine: Engine) => {
      const model = new EncoderClassifier(engine, { ...config, classes: 2 }, 5);
      const { grads } = await valueAndGrad(model.params, () => model.lossTensor(batch));
      const out = new Map<string, Float32Array>();
      for (const [param, grad] of grads) out.set(param.name, await grad.read());
      disposeGrads(grads);
      return out;
    };
    const want = await gradsOn(cpu());
    for (const name of registeredBackends()) {
      const backend = await createBackend(name);
      try {
        const got = await gradsOn(new Engine(backend));
        expect([...got.keys()]).toEqual([...want.keys()]);
        for (const [param, values] of want) {
          // backward sums ≤ B·T = 48 rows more than forward does; 1e-3 of the largest entry covers f32 reordering
          const scale = Math.max(...values.map(Math.abs));
          got.get(param)!.forEach((value, i) => expect(Math.abs(value - values[i]!), `${name} ${param}[${i}]`).toBeLessThanOrEqual(1e-3 * scale + 1e-7));
        }
      } finally {
        backend.dispose();
      }
    }
  });

  it('the encoder ignores padded positions; the LM ignores future tokens', () => {
    const encoder = new EncoderClassifier(cpu(), { ...config, classes: 2 }, 5);
    const changed = Int32Array.from(batch.ids);
    changed[16 + 12] = 3; // row 1 has 9 real tokens: position 12 is padding
    changed[32 + 5] = 7; // row 2 has 1 real token
    expect(encoder.forward({ ...batch, ids: changed }).readSync()).toEqual(encoder.forward(batch).readSync());

    const lm = new CausalLm(cpu(), config, 5);
    const future = Int32Array.from(batch.ids);
    future[10] = (future[10]! + 1) % 97;
    const before = lm.forward(batch).readSync().subarray(0, 10 * 97);
    const after = lm.forward({ ...batch, ids: future }).readSync().subarray(0, 10 * 97);
    expect(after).toEqual(before);
  });

  it('prompt class logits are the LM logits of the label words at the last real position', () => {
    const lm = new CausalLm(cpu(), config, 6);
    const labelIds = Int32Array.from([5, 60]);
    const full = lm.forward(batch).readSync();
    const classes = new PromptClassifier(lm, labelIds).forward(batch).readSync();
    for (let b = 0; b < 3; b++) {
      const position = b * 16 + batch.lengths[b]! - 1;
      labelIds.forEach((id, c) => expect(classes[b * 2 + c]).toBeCloseTo(full[position * 97 + id]!, 5));
    }
    expect(() => new PromptClassifier(lm, Int32Array.from([3, 97])).forward(batch)).toThrow(/labelTokenIds\[1\] = 97 is outside/);
  });

  it('without a tape, inference allocates no gradient and keeps no activation; a tape keeps them until backward', async () => {
    const engine = cpu();
    const model = new EncoderClassifier(engine, { ...config, classes: 2 }, 5);
    engine.ledger.resetPeaks();
    await model.loss(batch);
    const inference = engine.ledger.snapshot();
    expect(inference.peak.gradient).toBe(0);
    expect(inference.current.activation).toBe(0);
    expect(inference.current.workspace).toBe(0);

    engine.ledger.resetPeaks();
    const tape = new Tape(model.params);
    const loss = tape.run(() => model.lossTensor(batch));
    expect(tape.savedBytes()).toBeGreaterThan(0);
    expect(engine.ledger.currentBytes('activation')).toBe(tape.savedBytes() + 4);
    const grads = await tape.backward(loss);
    release(loss);
    expect(engine.ledger.currentBytes('activation')).toBe(0);
    expect(engine.ledger.currentBytes('gradient')).toBe(model.params.count() * 4);
    expect(engine.ledger.peakBytes('activation')).toBeGreaterThan(inference.peak.activation);
    for (const grad of grads.values()) grad.dispose();
    expect(engine.ledger.currentBytes()).toBe(model.params.count() * 4);
  });
});
