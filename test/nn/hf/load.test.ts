/**
 * Loading errors are named before any model is built: each case corrupts one thing in a copy of a
 * committed fixture and expects the error to name the file or field, the value and what is allowed.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { ConfigError, FormatError } from '../../../src/errors.ts';
import { CpuBackend } from '../../../src/kernels/cpu.ts';
import { decoderConfigFromHf } from '../../../src/nn/hf/config.ts';
import { loadHfModel } from '../../../src/nn/hf/load.ts';
import { decodeSafetensors, encodeSafetensors } from '../../../src/nn/safetensors.ts';
import { Engine } from '../../../src/tensor/tensor.ts';
import { FIXTURES } from './fixtures.ts';

const copies: string[] = [];
afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function copyOf(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `zolo-hf-${name}-`));
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  copies.push(dir);
  return dir;
}

function config(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(FIXTURES, name, 'config.json'), 'utf8')) as Record<string, unknown>;
}

/** Rewrites dir/file with `edit` applied to its tensors (re-encoded as F32). */
function rewriteWeights(dir: string, file: string, edit: (tensors: Map<string, { shape: number[]; data: Float32Array }>) => void): void {
  const path = join(dir, file);
  const { tensors } = decodeSafetensors(readFileSync(path), path);
  edit(tensors);
  writeFileSync(path, encodeSafetensors(tensors));
}

const load = (dir: string) => loadHfModel(dir, new Engine(new CpuBackend()));

describe('config.json', () => {
  test('an unknown model_type names the field and the supported families', () => {
    expect(() => decoderConfigFromHf({ ...config('llama'), model_type: 'mamba' }, 'config.json')).toThrow(
      new ConfigError('config.json: "model_type" must be one of gpt2, opt, llama, qwen2 (the families zolo implements), got "mamba"'),
    );
  });

  test.each([
    ['llama', 'rope_scaling', { type: 'linear', factor: 2 }, /"rope_scaling" must be .*not supported/],
    ['llama', 'rope_parameters', { rope_theta: 10000, rope_type: 'yarn' }, /"rope_parameters.rope_type" must be "default".*got "yarn"/],
    ['llama', 'hidden_act', 'gelu', /"hidden_act" must be "silu".*got "gelu"/],
    ['qwen2', 'use_sliding_window', true, /"use_sliding_window" must be false.*sliding-window/],
    ['qwen2', 'layer_types', ['sliding_attention', 'full_attention'], /"layer_types" must list only "full_attention"/],
    ['gpt2', 'activation_function', 'relu', /"activation_function" must be "gelu_new" or "gelu_pytorch_tanh".*got "relu"/],
    ['gpt2', 'scale_attn_by_inverse_layer_idx', true, /"scale_attn_by_inverse_layer_idx" must be false/],
    ['opt', 'do_layer_norm_before', false, /"do_layer_norm_before" must be true.*post-norm/],
    ['opt', 'word_embed_proj_dim', 16, /"word_embed_proj_dim" must equal hidden_size = 32/],
    ['llama', 'num_key_value_heads', 3, /kvHeads must divide model.heads = 4, got 3/],
    ['llama', 'hidden_size', -32, /"hidden_size" must be a positive integer, got -32/],
  ])('%s with %s = %j is refused, naming the field', (name, field, value, message) => {
    expect(() => decoderConfigFromHf({ ...config(name), [field]: value }, 'config.json')).toThrow(message);
  });

  test('a missing required field is named', () => {
    const { vocab_size: _, ...rest } = config('gpt2');
    expect(() => decoderConfigFromHf(rest, 'config.json')).toThrow(/"vocab_size" is required/);
  });
});

describe('weights', () => {
  test('a missing tensor is named with the shape the config needs', async () => {
    const dir = copyOf('llama');
    rewriteWeights(dir, 'model.safetensors', (tensors) => tensors.delete('model.layers.1.mlp.up_proj.weight'));
    await expect(load(dir)).rejects.toThrow(new FormatError(
      `${dir}: has no tensor "model.layers.1.mlp.up_proj.weight" (shape [64, 32]) that a llama model with this config.json needs`,
    ));
  });

  test('a wrong shape names the tensor and both shapes (GPT-2 Conv1D shapes in the file layout [in, out])', async () => {
    const dir = copyOf('gpt2');
    rewriteWeights(dir, 'model.safetensors', (tensors) => {
      const entry = tensors.get('transformer.h.0.attn.c_attn.weight')!;
      tensors.set('transformer.h.0.attn.c_attn.weight', { shape: [96, 32], data: entry.data });
    });
    await expect(load(dir)).rejects.toThrow(new FormatError(
      `${dir}: tensor "transformer.h.0.attn.c_attn.weight" has shape [96, 32], config.json implies [32, 96]`,
    ));
  });

  test('a truncated safetensors file is named', async () => {
    const dir = copyOf('gpt2');
    const file = join(dir, 'model.safetensors');
    truncateSync(file, readFileSync(file).length - 100);
    await expect(load(dir)).rejects.toThrow(/model\.safetensors: not a valid safetensors file: .*\(truncated\)/);
  });

  test('a truncated shard fails the whole load', async () => {
    const dir = copyOf('llama-sharded');
    const file = join(dir, 'model-00003-of-00004.safetensors');
    truncateSync(file, 1000);
    await expect(load(dir)).rejects.toThrow(/model-00003-of-00004\.safetensors: not a valid safetensors file/);
  });

  test('an index naming a tensor its shard lacks is named', async () => {
    const dir = copyOf('llama-sharded');
    const indexFile = join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(readFileSync(indexFile, 'utf8')) as { weight_map: Record<string, string> };
    const [name, shard] = Object.entries(index.weight_map)[0]!;
    const other = Object.values(index.weight_map).find((file) => file !== shard)!;
    index.weight_map[name] = other;
    writeFileSync(indexFile, JSON.stringify(index));
    await expect(load(dir)).rejects.toThrow(`names shard ${other} for tensor "${name}", but that shard has no such tensor`);
  });

  test('an unknown dtype is named', async () => {
    const dir = copyOf('gpt2');
    const file = join(dir, 'model.safetensors');
    const bytes = readFileSync(file);
    writeFileSync(file, Buffer.from(bytes.toString('latin1').replace('"dtype":"F32"', '"dtype":"I64"'), 'latin1'));
    await expect(load(dir)).rejects.toThrow(/has dtype "I64"; zolo reads F32, F16, BF16/);
  });

  test('a folder without weights says which files it looked for', async () => {
    const dir = copyOf('gpt2');
    rmSync(join(dir, 'model.safetensors'));
    await expect(load(dir)).rejects.toThrow(/has neither model\.safetensors nor model\.safetensors\.index\.json/);
  });
});
