/**
 * Predictions that can be trusted: non-finite weights are refused; a fine-tuned run's card records
 * the fine-tuning; checkpoints of adapter methods predict with their adapters re-attached from the
 * card (checked against the base model: identical when the adapters' B factors are zero, different
 * once they are trained).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import { loadPredictor, predictTexts } from '../../src/cli/predict.ts';
import { parseRunConfig } from '../../src/experiment/config.ts';
import { runExperiment } from '../../src/experiment/runner.ts';
import { readSafetensors, writeSafetensors } from '../../src/nn/safetensors.ts';

const shipped = join(import.meta.dirname, '..', '..', 'checkpoints', 'tiny');
const root = mkdtempSync(join(tmpdir(), 'zolo-predict-ft-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const texts = ['Subject: win money now\nclick here to claim your prize', 'Subject: lunch\nare we still on for friday?'];

async function logitsOf(dir: string): Promise<number[][]> {
  const predictor = await loadPredictor(dir, 'wasm');
  try {
    return (await predictTexts(predictor, texts)).map((prediction) => prediction.logits);
  } finally {
    predictor.dispose();
  }
}

describe('zolo predict refuses what it cannot trust', () => {
  it('refuses a checkpoint with NaN weights, naming the tensor', async () => {
    const dir = join(root, 'nan');
    cpSync(shipped, dir, { recursive: true });
    const file = join(dir, 'model.safetensors');
    const { tensors, metadata } = await readSafetensors(file);
    const [name, entry] = [...tensors][3]!;
    entry.data[5] = Number.NaN;
    await writeSafetensors(file, tensors, metadata);
    await expect(loadPredictor(dir, 'cpu')).rejects.toThrow(`tensor "${name}" holds 1 non-finite values`);
  });
});

describe('fine-tuned adapter checkpoints', () => {
  it('records the fine-tuning in card.json and predicts with the LoRA adapters re-attached', async () => {
    const dir = join(root, 'lora');
    const { summary } = await runExperiment(parseRunConfig({
      method: 'lora', backend: 'cpu', steps: 2, lr: 0.01, batchSize: 4, evalSize: 4, taskOptions: { shots: 4, seq: 32 }, checkpointEvery: 0, out: dir,
    }));
    const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8'));
    expect(card.fineTuning).toMatchObject({
      method: 'lora', lr: 0.01, steps: 2, forwardPasses: 2, status: 'completed', validation: summary.eval,
      selectedStep: summary.selected!.step, testAccuracy: summary.selected!.test!.accuracy, adapters: { kind: 'lora', rank: 8, alpha: 16 },
    });
    expect(card.fineTuning.parent).toMatch(/checkpoints[\\/]tiny$/);
    expect(card.training.command).toMatch(/^zolo pretrain/);

    const base = await logitsOf(shipped);
    const tuned = await logitsOf(dir);
    expect(tuned).not.toEqual(base);
    // with every B factor zero the adapters add exactly nothing: the base model's logits, bit for bit
    const file = join(dir, 'model.safetensors');
    const { tensors, metadata } = await readSafetensors(file);
    for (const [name, entry] of tensors) if (name.endsWith('.lora.B')) entry.data.fill(0);
    await writeSafetensors(file, tensors, metadata);
    expect(await logitsOf(dir)).toEqual(base);
  });
});
