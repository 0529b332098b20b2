import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import './fixtures/fixtureMethods.ts';
import { parseRunConfig, type RunConfigInput } from '../../src/experiment/config.ts';
import { runExperiment } from '../../src/experiment/runner.ts';
import { applyTrainable } from '../../src/experiment/trainable.ts';
import { ConfigError } from '../../src/errors.ts';
import { CpuBackend } from '../../src/kernels/index.ts';
import { readSafetensors } from '../../src/nn/safetensors.ts';
import { Engine, ParamStore } from '../../src/tensor/index.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-trainable-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const config = (overrides: Partial<RunConfigInput>) =>
  parseRunConfig({ backend: 'cpu', task: 'synthetic-blobs', model: 'linear', steps: 20, lr: 0.05, out: join(root, `run-${counter++}`), ...overrides });

/** A store named like the transformers' (src/nn): two blocks, a final norm. */
function transformerLikeStore(): ParamStore {
  const store = new ParamStore(new Engine(new CpuBackend()));
  store.add('tok.weight', 'embedding', [4, 2], new Float32Array(8));
  for (const block of [0, 1]) {
    store.add(`blocks.${block}.ln1.weight`, 'norm', [2], new Float32Array(2));
    store.add(`blocks.${block}.attn.qkv.weight`, 'attention', [6, 2], new Float32Array(12));
    store.add(`blocks.${block}.mlp.fc1.bias`, 'mlp', [8], new Float32Array(8));
  }
  store.add('ln_f.weight', 'norm', [2], new Float32Array(2));
  return store;
}

const trainableNames = (store: ParamStore) => store.trainable().map((param) => param.name);

describe('trainable selection', () => {
  it('selects by name pattern (* crosses dots), exact name and group; the union of the entries', () => {
    const store = transformerLikeStore();
    applyTrainable(store, ['blocks.1.*', 'ln_f.weight']);
    expect(trainableNames(store)).toEqual(['blocks.1.ln1.weight', 'blocks.1.attn.qkv.weight', 'blocks.1.mlp.fc1.bias', 'ln_f.weight']);
    applyTrainable(store, ['norm']);
    expect(trainableNames(store)).toEqual(['blocks.0.ln1.weight', 'blocks.1.ln1.weight', 'ln_f.weight']);
    applyTrainable(store, ['*.bias', 'embedding']);
    expect(trainableNames(store)).toEqual(['tok.weight', 'blocks.0.mlp.fc1.bias', 'blocks.1.mlp.fc1.bias']);
    // a dot is literal, not a regex wildcard
    applyTrainable(store, ['ln_f.weight']);
    expect(() => applyTrainable(store, ['ln_fXweight'])).toThrow(ConfigError);
  });

  it('an entry that matches nothing is a ConfigError naming the field and listing groups and names', () => {
    const store = transformerLikeStore();
    expect(() => applyTrainable(store, ['norm', 'final_norm.*'])).toThrow(
      'trainable entry "final_norm.*" matches no parameter; use a group (embedding, norm, attention, mlp) or a name pattern with * over: tok.weight, blocks.0.ln1.weight',
    );
  });

  it('ZO and backprop runs only touch the selected parameters', async () => {
    for (const method of ['mezo', 'adamw', 'fixture-sgd', 'fixture-spsa']) {
      const { dir, summary } = await runExperiment(config({ method, trainable: ['head.bias'] }));
      expect(summary.trainableParams).toBe(2);
      const { tensors } = await readSafetensors(join(dir, 'model.safetensors'));
      // head.weight starts at zero; untouched (never perturbed, never updated) it stays exactly zero
      expect({ method, weightUntouched: [...tensors.get('head.weight')!.data].every((value) => value === 0) }).toEqual({ method, weightUntouched: true });
      expect([...tensors.get('head.bias')!.data].some((value) => value !== 0)).toBe(true);
    }
  });

  it('is refused for methods that choose their own trainable parameters, and a bad entry leaves no folder', async () => {
    for (const method of ['mezo-lora', 'adazeta', 'lora', 'relora', 'zero-shot']) {
      await expect(runExperiment(config({ method, trainable: ['head'] }))).rejects.toThrow(`trainable must be null for method ${method}`);
    }
    const bad = config({ method: 'mezo', trainable: ['blocks.1.*'] });
    await expect(runExperiment(bad)).rejects.toThrow('trainable entry "blocks.1.*" matches no parameter; use a group (head) or a name pattern with * over: head.weight, head.bias');
    expect(existsSync(bad.out!)).toBe(false);
  });
});
