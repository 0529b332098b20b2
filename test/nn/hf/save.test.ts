/** saveHfModel writes a folder loadHfModel (and transformers) reads back to the same weights. */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { CpuBackend } from '../../../src/kernels/cpu.ts';
import { attachAdapters } from '../../../src/nn/adapters/attach.ts';
import { TT_ADAPTER_DEFAULTS } from '../../../src/nn/adapters/ttAdapter.ts';
import { loadHfModel } from '../../../src/nn/hf/load.ts';
import { saveHfModel } from '../../../src/nn/hf/save.ts';
import { readSafetensors } from '../../../src/nn/safetensors.ts';
import { Engine } from '../../../src/tensor/tensor.ts';
import { FIXTURES } from './fixtures.ts';

const outputs: string[] = [];
afterEach(() => {
  for (const dir of outputs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function outDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zolo-hf-save-'));
  outputs.push(dir);
  return dir;
}
const engine = () => new Engine(new CpuBackend());

describe('saveHfModel', () => {
  test.each(['gpt2', 'llama-bf16', 'qwen2', 'opt'])('%s: a changed weight survives save and load; the rest round-trips exactly', async (name) => {
    const source = join(FIXTURES, name);
    const model = await loadHfModel(source, engine());
    const changed = model.params.all()[3]!;
    const values = await changed.tensor.read();
    values[0] = 42;
    model.engine.backend.write(changed.tensor.buffer, values);
    const out = outDir();
    await saveHfModel(model, out, { sourceDir: source });

    const reloaded = await loadHfModel(out, engine());
    const want = await model.params.snapshot();
    for (const [param, got] of await reloaded.params.snapshot()) expect(got, param).toEqual(want.get(param));
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config.dtype).toBe('float32');
    expect(readFileSync(join(out, 'tokenizer.json'), 'utf8')).toBe(readFileSync(join(source, 'tokenizer.json'), 'utf8'));
  });

  test('GPT-2 Conv1D weights go back to the [in, out] layout of the source file; a tied head is not written', async () => {
    const source = join(FIXTURES, 'gpt2');
    const out = outDir();
    await saveHfModel(await loadHfModel(source, engine()), out, { sourceDir: source });
    const original = await readSafetensors(join(source, 'model.safetensors'));
    const written = await readSafetensors(join(out, 'model.safetensors'));
    expect([...written.tensors.keys()].sort()).toEqual([...original.tensors.keys()].sort());
    const name = 'transformer.h.1.mlp.c_fc.weight';
    expect(written.tensors.get(name)!.shape).toEqual([32, 128]);
    expect(written.tensors.get(name)!.data).toEqual(original.tensors.get(name)!.data);
    expect(written.metadata).toEqual({ format: 'pt' });
  });

  test('refuses adapters it cannot merge and existing weights without overwrite', async () => {
    const source = join(FIXTURES, 'llama');
    const model = await loadHfModel(source, engine());
    const out = outDir();
    await saveHfModel(model, out, { sourceDir: source });
    await expect(saveHfModel(model, out, { sourceDir: source })).rejects.toThrow(/already holds model weights; pass overwrite/);
    attachAdapters(model, { kind: 'tt', ...TT_ADAPTER_DEFAULTS, bottleneck: 4, targets: ['self_attn.o_proj'] });
    const empty = outDir();
    await expect(saveHfModel(model, empty, { sourceDir: source })).rejects.toThrow(/carries \d+ adapter parameters .* cannot be merged into its weights/);
    expect(readdirSync(empty)).toEqual([]);
  });
});
