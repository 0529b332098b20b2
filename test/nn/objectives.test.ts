/** Objectives on hand-made logits, and objectiveValue agreeing with the model's own loss. */
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { EncoderClassifier, accuracy, crossEntropyOf, f1Score, objectiveValue, presetConfig } from '../../src/nn/index.ts';
import { Engine } from '../../src/tensor/tensor.ts';

describe('objectives', () => {
  // rows predict 1, 0, 1, 1 against labels 1, 1, 0, 1: tp 2, fp 1, fn 1
  const logits = Float32Array.from([0, 1, 2, 0, -1, 3, 0.5, 0.6]);
  const labels = Int32Array.from([1, 1, 0, 1]);

  it('accuracy, binary F1 of class 1, macro-F1, cross-entropy', () => {
    expect(accuracy(logits, labels, 2)).toBe(0.5);
    expect(f1Score(logits, labels, 2)).toBeCloseTo(4 / 6, 12);
    // 3 classes, rows predict 2, 0 against labels 2, 1: F1 = (0 [class 0: fp] + 0 [class 1: fn] + 1) / 3
    expect(f1Score(Float32Array.from([0, 0, 1, 1, 0, 0]), Int32Array.from([2, 1]), 3)).toBeCloseTo(1 / 3, 12);
    expect(crossEntropyOf(Float32Array.from([0, 0]), Int32Array.from([1]), 2)).toBeCloseTo(Math.log(2), 12);
    expect(() => accuracy(logits, Int32Array.from([1, 1, 2, 0]), 2)).toThrow(/labels\[2\] = 2 outside 0..1/);
  });

  it('objectiveValue("cross-entropy") equals model.loss', async () => {
    const model = new EncoderClassifier(new Engine(new CpuBackend()), { ...presetConfig('tiny'), vocab: 30, dModel: 16, heads: 2, dFf: 32, seq: 8, classes: 2 }, 3);
    const batch = { ids: Int32Array.from({ length: 16 }, (_, i) => i % 30), batch: 2, seq: 8, labels: Int32Array.from([0, 1]) };
    // both are float64 means of the same f32 logits; they differ only in summation order (≲ 1e-7)
    expect(await objectiveValue(model, batch, 'cross-entropy')).toBeCloseTo(await model.loss(batch), 6);
    expect([0, 0.5, 1]).toContain(await objectiveValue(model, batch, 'error'));
  });
});
