/**
 * The llama-* presets zolo pretrains from scratch: their parameter counts from the LLaMA formula,
 * the random initialisation (transformers' LLaMA _init_weights: N(0, 0.02²) matrices, unit norm
 * weights, deterministic in the seed), zolo checkpoints of a decoder (save → load gives the same
 * parameters and logits; a bad family is a named error), and the LoRA baseline's "attention+mlp"
 * target finding every projection of the architecture.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { CpuBackend } from '../../../src/kernels/cpu.ts';
import { ConfigError, FormatError } from '../../../src/errors.ts';
import { ATTENTION_MLP_TARGET, attachAdapters } from '../../../src/nn/adapters/attach.ts';
import { ARCHITECTURES, DECODER_PRESETS, DecoderLm, decoderPresetConfig } from '../../../src/nn/architectures/index.ts';
import { createLanguageModel, languageModelConfig, loadCheckpoint, PromptClassifier, readSafetensors, saveCheckpoint, writeSafetensors } from '../../../src/nn/index.ts';
import { Engine } from '../../../src/tensor/tensor.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-llama-presets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const cpu = () => new Engine(new CpuBackend());
/** llama-tiny with a small vocabulary, to keep the tests fast. */
const SMALL = decoderPresetConfig('llama-tiny', { vocab: 300 });

describe('llama presets', () => {
  test.each(Object.keys(DECODER_PRESETS))('%s: parameters = 2·V·d + L·(4·d² + 3·d·f + 2·d) + d (untied head, no biases)', (name) => {
    const config = decoderPresetConfig(name);
    const { vocab: V, dModel: d, layers: L, dFf: f } = config;
    const specs = ARCHITECTURES.llama.parameters(config);
    expect(specs.reduce((n, spec) => n + spec.shape.reduce((a, b) => a * b, 1), 0)).toBe(2 * V * d + L * (4 * d * d + 3 * d * f + 2 * d) + d);
  });

  test('llama-tiny builds as a DecoderLm with that many parameters', () => {
    const model = createLanguageModel(cpu(), decoderPresetConfig('llama-tiny'), 0);
    expect(model).toBeInstanceOf(DecoderLm);
    expect(model.params.count()).toBe(1_008_096);
  });

  test('the counts the docs state, and the preset list in errors', () => {
    const count = (name: string): number => {
      const c = decoderPresetConfig(name);
      return 2 * c.vocab * c.dModel + c.layers * (4 * c.dModel ** 2 + 3 * c.dModel * c.dFf + 2 * c.dModel) + c.dModel;
    };
    expect(count('llama-tiny')).toBe(1_008_096);
    expect(count('llama-20m')).toBe(20_848_512);
    expect(() => languageModelConfig('llama-7b')).toThrow(new ConfigError('model preset must be one of tiny, small, llama-tiny, llama-20m, got "llama-7b"'));
    expect(languageModelConfig('llama-tiny', { vocab: 512 })).toMatchObject({ family: 'llama', vocab: 512, dModel: 96, tiedEmbeddings: false });
  });

  test('initialisation: deterministic in the seed; matrices N(0, 0.02²), norm weights 1', async () => {
    const a = await createLanguageModel(cpu(), SMALL, 7).params.snapshot();
    const b = await createLanguageModel(cpu(), SMALL, 7).params.snapshot();
    const c = await createLanguageModel(cpu(), SMALL, 8).params.snapshot();
    for (const [name, values] of a) expect(values, name).toEqual(b.get(name));
    expect(a.get('model.layers.0.mlp.up_proj.weight')).not.toEqual(c.get('model.layers.0.mlp.up_proj.weight'));
    expect(a.get('model.norm.weight')!.every((v) => v === 1)).toBe(true);
    expect(a.get('model.layers.1.input_layernorm.weight')!.every((v) => v === 1)).toBe(true);
    // the sample variance of n normals has relative standard error √(2/n); 5 of them bound it
    const weights = a.get('model.layers.0.mlp.gate_proj.weight')!;
    const n = weights.length;
    const mean = weights.reduce((s, v) => s + v, 0) / n;
    const variance = weights.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
    expect(Math.abs(variance / 0.02 ** 2 - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(mean)).toBeLessThan(5 * 0.02 / Math.sqrt(n));
  });

  test('"attention+mlp" targets every projection the architecture declares (LoRA baseline default)', () => {
    const model = createLanguageModel(cpu(), SMALL, 0) as DecoderLm;
    const attached = attachAdapters(model, { kind: 'lora', targets: [ATTENTION_MLP_TARGET], rank: 2, alpha: 4 });
    expect(attached.sites).toEqual([0, 1].flatMap((layer) => model.architecture.projections.map((p) => `model.layers.${layer}.${p}`)));
  });
});

describe('zolo checkpoints of a decoder', () => {
  const ids = Int32Array.from({ length: 16 }, (_, i) => (i * 37) % 300);
  const batch = { ids, batch: 2, seq: 8 };

  test('save → load: the same parameters and logits, the prompt classifier\'s label ids kept', async () => {
    const model = createLanguageModel(cpu(), SMALL, 3);
    const file = join(root, 'llama.safetensors');
    await saveCheckpoint(file, new PromptClassifier(model, Int32Array.from([7, 9])), { 'zolo.preset': 'llama-tiny' });
    const loaded = await loadCheckpoint(file, cpu());
    expect(loaded.model).toBeInstanceOf(DecoderLm);
    expect(loaded.model.config).toEqual(SMALL);
    expect([...loaded.prompt!.labelTokenIds]).toEqual([7, 9]);
    const want = await model.params.snapshot();
    for (const [name, values] of await loaded.model.params.snapshot()) expect(values, name).toEqual(want.get(name));
    expect(loaded.model.forward(batch).readSync()).toEqual(model.forward(batch).readSync());
  });

  test('an unknown family or a missing tensor is a FormatError naming the file', async () => {
    const model = createLanguageModel(cpu(), SMALL, 3);
    const file = join(root, 'bad.safetensors');
    await saveCheckpoint(file, model);
    const { tensors, metadata } = await readSafetensors(file);
    await writeSafetensors(file, [...tensors], { ...metadata, 'zolo.config': JSON.stringify({ ...SMALL, family: 'mamba' }) });
    await expect(loadCheckpoint(file, cpu())).rejects.toThrow(FormatError);
    await expect(loadCheckpoint(file, cpu())).rejects.toThrow(/"zolo\.config" names family "mamba", not one of gpt2, opt, llama, qwen2/);
    await writeSafetensors(file, [...tensors].filter(([name]) => name !== 'lm_head.weight'), metadata);
    await expect(loadCheckpoint(file, cpu())).rejects.toThrow(/has no tensor "lm_head\.weight" \(shape \[300, 96\]\) that a llama with this config needs/);
  });
});
