/** Checkpoints: save → load gives identical logits; the byte layout is safetensors; damage is a clear FormatError. */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { FormatError } from '../../src/errors.ts';
import {
  CausalLm, EncoderClassifier, PromptClassifier, type TransformerConfig, decodeSafetensors, encodeSafetensors, loadCheckpoint, saveCheckpoint,
} from '../../src/nn/index.ts';
import { Engine } from '../../src/tensor/tensor.ts';

const CONFIG: TransformerConfig = { vocab: 50, dModel: 16, layers: 2, heads: 2, dFf: 32, seq: 8, layerNormEps: 1e-5, initStd: 0.02 };
const batch = { ids: Int32Array.from({ length: 16 }, (_, i) => (i * 7) % 50), batch: 2, seq: 8, lengths: Int32Array.from([8, 5]) };
const cpu = () => new Engine(new CpuBackend());

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zolo-ckpt-'));
});
afterAll(async () => {
  // temp files are left to the OS; listing proves no stray .tmp files remain from atomic writes
  expect((await readdir(dir)).filter((name) => name.includes('.tmp-'))).toEqual([]);
});

describe('round trip', () => {
  it('encoder classifier: identical logits after save → load, metadata kept', async () => {
    const model = new EncoderClassifier(cpu(), { ...CONFIG, classes: 3 }, 11);
    const file = join(dir, 'encoder.safetensors');
    await saveCheckpoint(file, model, { 'card.steps': '12' });
    const loaded = await loadCheckpoint(file, cpu());
    expect(loaded.model).toBeInstanceOf(EncoderClassifier);
    expect(loaded.model.config).toEqual({ ...CONFIG, classes: 3 });
    expect(loaded.metadata['card.steps']).toBe('12');
    expect(loaded.model.forward(batch).readSync()).toEqual(model.forward(batch).readSync());
  });

  it('prompt classifier: the LM and its label words come back', async () => {
    const prompt = new PromptClassifier(new CausalLm(cpu(), CONFIG, 12), Int32Array.from([3, 44]));
    const file = join(dir, 'prompt.safetensors');
    await saveCheckpoint(file, prompt);
    const loaded = await loadCheckpoint(file, cpu());
    expect(loaded.prompt!.labelTokenIds).toEqual(Int32Array.from([3, 44]));
    expect(loaded.prompt!.forward(batch).readSync()).toEqual(prompt.forward(batch).readSync());
    expect(loaded.model.forward(batch).readSync()).toEqual(prompt.lm.forward(batch).readSync());
  });

  it('the bytes follow the safetensors layout (u64 LE header length, 8-aligned JSON, F32 LE data)', () => {
    const bytes = encodeSafetensors([['a', { shape: [2], data: Float32Array.from([1.5, -2]) }]], { k: 'v' });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + headerLength)).toString('utf8'));
    expect(header).toEqual({ __metadata__: { k: 'v' }, a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
    const data = new DataView(bytes.buffer, 8 + headerLength);
    expect([data.getFloat32(0, true), data.getFloat32(4, true)]).toEqual([1.5, -2]);
    expect(decodeSafetensors(bytes, 'mem').tensors.get('a')!.data).toEqual(Float32Array.from([1.5, -2]));
  });
});

describe('damaged files', () => {
  let good: Uint8Array;
  beforeAll(async () => {
    const file = join(dir, 'good.safetensors');
    await saveCheckpoint(file, new CausalLm(cpu(), CONFIG, 1));
    good = await readFile(file);
  });

  async function loadBytes(name: string, bytes: Uint8Array) {
    const file = join(dir, name);
    await writeFile(file, bytes);
    return loadCheckpoint(file, cpu());
  }

  it('truncated data, truncated header, a short file, bad JSON, trailing bytes: FormatError naming the file and the problem', async () => {
    await expect(loadBytes('cut.safetensors', good.subarray(0, good.length - 100))).rejects.toThrow(/cut\.safetensors: .*ends at data byte \d+ but the data section has \d+ bytes \(truncated\)/);
    await expect(loadBytes('head.safetensors', good.subarray(0, 200))).rejects.toThrow(/head\.safetensors: .*header claims \d+ bytes but only 192 follow/);
    await expect(loadBytes('short.safetensors', good.subarray(0, 5))).rejects.toThrow(/short\.safetensors: .*5 bytes long, shorter than the 8-byte header length/);
    const garbled = Uint8Array.from(good);
    garbled[8] = 0x78; // 'x' in place of the opening '{'
    await expect(loadBytes('json.safetensors', garbled)).rejects.toThrow(/json\.safetensors: .*header is not valid JSON/);
    await expect(loadBytes('tail.safetensors', Buffer.concat([good, Buffer.alloc(4)]))).rejects.toThrow(/tail\.safetensors: .*trailing bytes/);
    await expect(loadCheckpoint(join(dir, 'missing.safetensors'), cpu())).rejects.toThrow(FormatError);
  });

  it('a valid safetensors file that is not a zolo checkpoint, or lacks a tensor, or has a wrong shape', async () => {
    const tensors = decodeSafetensors(good, 'good').tensors;
    await expect(loadBytes('plain.safetensors', encodeSafetensors(tensors))).rejects.toThrow(/plain\.safetensors: not a zolo checkpoint/);
    const { metadata } = decodeSafetensors(good, 'good');
    const without = [...tensors].filter(([name]) => name !== 'ln_f.bias');
    await expect(loadBytes('missing-tensor.safetensors', encodeSafetensors(without, metadata))).rejects.toThrow(/has no tensor "ln_f.bias" \(shape \[16\]\)/);
    const reshaped = [...tensors].map(([name, entry]) => [name, name === 'pos.weight' ? { shape: [16, 8], data: entry.data } : entry] as const);
    await expect(loadBytes('shape.safetensors', encodeSafetensors(reshaped as never, metadata))).rejects.toThrow(/tensor "pos.weight" has shape \[16, 8\], the model needs \[8, 16\]/);
  });
});

describe('docs/checkpoint-format.md is executable', () => {
  const python = 'python3';
  const hasNumpy = (() => {
    try {
      execFileSync(python, ['-c', 'import numpy'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

  it.skipIf(!hasNumpy)('its numpy script reproduces the encoder logits from the file alone (float64 vs f32: 1e-5 of the largest logit)', async () => {
    const docs = await readFile(new URL('../../docs/checkpoint-format.md', import.meta.url), 'utf8');
    const script = /```python\n([\s\S]*?)```/.exec(docs)![1]!;
    const model = new EncoderClassifier(cpu(), { ...CONFIG, classes: 3, initStd: 0.2 }, 21);
    const file = join(dir, 'numpy.safetensors');
    await saveCheckpoint(file, model);
    const driver = `${script}\nimport sys\nW, cfg = load(sys.argv[1])\nids = np.array(json.loads(sys.argv[2])).reshape(2, 8)\nprint(json.dumps(encoder_logits(W, cfg, ids, np.array(json.loads(sys.argv[3]))).reshape(-1).tolist()))\n`;
    const out = execFileSync(python, ['-c', driver, file, JSON.stringify([...batch.ids]), JSON.stringify([...batch.lengths])], { encoding: 'utf8' });
    const numpy = JSON.parse(out) as number[];
    const zolo = model.forward(batch).readSync();
    const scale = Math.max(...numpy.map(Math.abs));
    numpy.forEach((value, i) => expect(Math.abs(value - zolo[i]!)).toBeLessThanOrEqual(1e-5 * scale));
  });
});
