import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import { parseRunConfig } from '../../src/experiment/config.ts';
import { runExperiment } from '../../src/experiment/runner.ts';
import { defaultGaLoreRank } from '../../src/galore/defaults.ts';
import { GradientProjector, resolveProjectorOptions } from '../../src/galore/projector.ts';
import { CpuBackend } from '../../src/kernels/index.ts';
import { Engine } from '../../src/tensor/index.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-galore-defaults-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('GaLore default rank', () => {
  it('is a quarter of the smaller side of each projected matrix, at least 1; an explicit rank is capped at min(m, n)', () => {
    expect(defaultGaLoreRank(384, 128)).toBe(32);
    expect(defaultGaLoreRank(128, 512)).toBe(32);
    expect(defaultGaLoreRank(4096, 1024)).toBe(256);
    expect(defaultGaLoreRank(3, 7)).toBe(1);
    const engine = new Engine(new CpuBackend());
    expect(new GradientProjector(engine, 'w', [384, 128], resolveProjectorOptions(), 0).rank).toBe(32);
    expect(new GradientProjector(engine, 'w', [384, 128], resolveProjectorOptions({ rank: 500 }), 0).rank).toBe(128);
  });

  it('zolo run --method galore-adamw on tiny holds less optimizer state than adamw (ledger)', async () => {
    const optimizerState = async (method: string) => {
      const config = parseRunConfig({ method, task: 'spam', model: 'tiny', backend: 'cpu', steps: 1, batchSize: 2, evalSize: 2, taskOptions: { seq: 16 }, saveWeights: false, out: join(root, method) });
      return (await runExperiment(config)).summary.memory.peakBytes.optimizerState;
    };
    const adamw = await optimizerState('adamw');
    const galore = await optimizerState('galore-adamw');
    // Expected ratio from tiny's shapes: the attention/MLP matrices (qkv 384×128, proj 128×128,
    // fc1 512×128, fc2 128×512, two blocks) are 393,216 of its 929,280 weights. AdamW keeps 2 floats
    // per weight; GaLore keeps, per matrix, moments 2·r·max(m, n) plus a basis r·min(m, n) with
    // r = min/4, i.e. 229,376 instead of 786,432 floats, so 1,301,504 / 1,858,560 ≈ 0.70 of AdamW.
    expect(galore).toBeLessThan(adamw);
    expect(galore / adamw).toBeCloseTo(1_301_504 / 1_858_560, 6);
  });
});
