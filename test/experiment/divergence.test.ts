import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import './fixtures/fixtureMethods.ts';
import { readCheckpoint } from '../../src/experiment/checkpoint.ts';
import { parseRunConfig, type RunConfigInput } from '../../src/experiment/config.ts';
import { addLoss, hasDiverged, LOSS_EMA_DECAY, NO_LOSSES, smoothedValue } from '../../src/experiment/divergence.ts';
import { readMetrics } from '../../src/experiment/results.ts';
import { runExperiment } from '../../src/experiment/runner.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-divergence-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const config = (overrides: Partial<RunConfigInput>) =>
  parseRunConfig({ backend: 'cpu', task: 'synthetic-blobs', model: 'linear', steps: 40, evalInterval: 10, checkpointEvery: 1, out: join(root, `run-${counter++}`), ...overrides });

describe('smoothed loss', () => {
  test.prop([fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 50 })], { seed: 7 })(
    'is the bias-corrected EMA: Σ β^(t−i)(1−β)ℓ_i / (1 − β^t)',
    (losses) => {
      const state = losses.reduce(addLoss, NO_LOSSES);
      const t = losses.length;
      const direct = losses.reduce((sum, loss, i) => sum + LOSS_EMA_DECAY ** (t - 1 - i) * (1 - LOSS_EMA_DECAY) * loss, 0) / (1 - LOSS_EMA_DECAY ** t);
      // the two sums differ only by float64 rounding over ≤ 50 terms of size ≤ 100
      expect(smoothedValue(state)).toBeCloseTo(direct, 9);
    },
  );

  it('a constant loss smooths to itself, so a flat run never diverges', () => {
    const state = Array.from({ length: 30 }, () => 0.7).reduce(addLoss, NO_LOSSES);
    expect(smoothedValue(state)).toBeCloseTo(0.7, 12);
    expect(hasDiverged(0.7, state, 0.7, 4)).toBe(false);
  });

  it('non-finite losses diverge even with the blow-up test off; factor 0 and null turn the blow-up test off', () => {
    const blown = addLoss(NO_LOSSES, 100);
    expect(hasDiverged(Number.NaN, NO_LOSSES, 0.7, null)).toBe(true);
    expect(hasDiverged(Number.POSITIVE_INFINITY, NO_LOSSES, 0.7, 0)).toBe(true);
    expect(hasDiverged(100, blown, 0.7, 4)).toBe(true);
    expect(hasDiverged(100, blown, 0.7, 0)).toBe(false);
    expect(hasDiverged(100, blown, 0.7, null)).toBe(false);
  });
});

describe('the runner marks and stops diverged runs', () => {
  it('a finite blow-up (huge lr) is marked diverged and stops; the same run with the rule off keeps finite losses', async () => {
    for (const method of ['fixture-sgd', 'mezo', 'adamw']) {
      const lr = method === 'adamw' ? 10 : 1000;
      const off = await runExperiment(config({ method, lr, divergeFactor: 0 }));
      const losses = readMetrics(off.dir).flatMap((line) => (line.trainLoss === null ? [] : [line.trainLoss]));
      // the blow-up is finite: without the rule the run completes with finite, exploded losses
      expect(off.summary.status).toBe('completed');
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(Math.max(...losses)).toBeGreaterThan(4 * off.summary.trainLoss.first!);

      const { dir, summary } = await runExperiment(config({ method, lr }));
      expect(summary).toMatchObject({ status: 'diverged', stoppedBy: 'divergence', eval: null });
      expect(summary.steps).toBe(summary.divergedAtStep);
      expect(summary.steps).toBeLessThan(40);
      // the checkpoint is the last step before the blow-up; nothing after it was saved
      expect((readCheckpoint(join(dir, 'checkpoint.safetensors')).state as { step: number }).step).toBe(summary.divergedAtStep);
      expect(summary.files).not.toContain('model.safetensors');
    }
  });

  it('a NaN loss is marked diverged and stops at that step', async () => {
    const { summary } = await runExperiment(config({ method: 'fixture-nan', options: { nanAt: 23 } }));
    expect(summary).toMatchObject({ status: 'diverged', divergedAtStep: 23, steps: 23, stoppedBy: 'divergence' });
  });

  it('a normal run is not marked', async () => {
    for (const method of ['mezo', 'fixture-sgd', 'adamw']) {
      const { summary } = await runExperiment(config({ method, lr: 0.01 }));
      expect(summary).toMatchObject({ status: 'completed', divergedAtStep: null, stoppedBy: 'steps', steps: 40 });
    }
  });
});
