import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/nn/safetensors.ts';
import { loadPredictor, predictTexts } from '../../src/cli/predict.ts';
import { readCard } from '../../src/data/checkpointCard.ts';

const shipped = join(import.meta.dirname, '..', '..', 'checkpoints', 'tiny');

describe('the shipped tiny checkpoint', () => {
  it('has a valid card with the figures docs/pretraining.md quotes', () => {
    const card = readCard(shipped);
    expect(card.preset).toBe('tiny');
    expect(card.head).toBe('prompt');
    expect(card.parameters).toBe(929_280);
    expect(card.training.command).toMatch(/^zolo pretrain --model tiny /);
    const evaluation = card.evaluation as { validationPerplexity: number; unigramPerplexity: number };
    expect(evaluation.validationPerplexity).toBeLessThan(evaluation.unigramPerplexity);
  });

  it('loads and classifies with its prompt head', async () => {
    const predictor = await loadPredictor(shipped);
    try {
      expect(predictor.tokenizer.vocabSize).toBe(4096);
      const [prediction] = await predictTexts(predictor, ['Subject: hello\nare we still meeting on friday?']);
      expect(prediction!.logitKind).toBe('label-word');
      expect(prediction!.logits).toHaveLength(2);
      expect(prediction!.probabilities.ham! + prediction!.probabilities.spam!).toBeCloseTo(1, 12);
    } finally {
      predictor.dispose();
    }
  });

  it('refuses a checkpoint with adapter tensors instead of silently ignoring them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zolo-predict-'));
    try {
      cpSync(shipped, dir, { recursive: true });
      const file = join(dir, 'model.safetensors');
      const { tensors, metadata } = await readSafetensors(file);
      tensors.set('blocks.0.attn.qkv.lora.a', { shape: [8, 128], data: new Float32Array(8 * 128) });
      await writeSafetensors(file, tensors, metadata);
      await expect(loadPredictor(dir, 'cpu')).rejects.toThrow(/1 adapter tensors \(blocks\.0\.attn\.qkv\.lora\.a\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
