/**
 * `zolo run --model <Hugging Face folder>` on the e-mail task: the committed tiny LLaMA fixture is
 * fine-tuned prompt-style with MeZO (forward only) and AdamW (backprop) for a few steps, and the
 * result comes back as a Hugging Face folder that loads again. The fixture's 320-token vocabulary
 * has no single-token " ham"/" spam", so the test names one-byte label words (taskOptions.prompt).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import { parseRunConfig } from '../../src/experiment/config.ts';
import { runExperiment } from '../../src/experiment/runner.ts';
import { HF_EXPORT_DIR } from '../../src/experiment/spamWorkload.ts';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { loadHfModel } from '../../src/nn/hf/load.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { FIXTURES } from '../nn/hf/fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-hf-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const taskOptions = { shots: 4, seq: 40, prompt: { labelWords: ['n', 'y'] } };

describe('zolo run on a Hugging Face folder', () => {
  for (const method of ['mezo', 'adamw']) {
    it(`${method}: trains, evaluates and writes a Hugging Face folder with changed weights`, async () => {
      const source = join(FIXTURES, 'llama');
      const out = join(root, method);
      const { summary } = await runExperiment(parseRunConfig({
        method, backend: 'cpu', task: 'spam', model: source, taskOptions, steps: 3, batchSize: 4, lr: 1e-3,
        evalSize: 8, checkpointEvery: 0, saveWeights: true, out,
      }));
      expect(summary.status).toBe('completed');
      expect(summary.steps).toBe(3);
      expect(summary.eval!.accuracy).toBeGreaterThanOrEqual(0);
      expect(summary.trainLoss.last).toBeGreaterThan(0);
      const engine = new Engine(new CpuBackend());
      const before = await (await loadHfModel(source, engine)).params.snapshot();
      const after = await (await loadHfModel(join(out, HF_EXPORT_DIR), engine)).params.snapshot();
      const changed = [...after].filter(([name, values]) => values.some((v, i) => v !== before.get(name)![i]));
      expect(changed.length).toBeGreaterThan(0);
    });
  }
});
