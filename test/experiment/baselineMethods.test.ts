/**
 * The baselines end to end through `zolo run` on the e-mail task with the shipped tiny checkpoint, on
 * a small subset (8 training e-mails per class, the first 32 validation and test e-mails).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/run.ts';
import { loadSplit } from '../../src/data/spam.ts';
import { classPrior } from '../../src/experiment/methods/majority.ts';
import type { RunSummary } from '../../src/experiment/runner.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-baselines-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const EVAL_SIZE = 32;

async function zoloRun(method: string, ...extra: string[]): Promise<RunSummary> {
  const out = join(root, method);
  const program = new Command().exitOverride();
  register(program);
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    await program.parseAsync(['node', 'zolo', 'run', '--method', method, '--task', 'spam', '--model', 'tiny', '--set', 'taskOptions.shots=8', '--eval-size', String(EVAL_SIZE), '--out', out, ...extra]);
  } finally {
    log.mockRestore();
  }
  return JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as RunSummary;
}

/** Share of the first `n` examples of a split whose label is `label` (computed from the corpus, not the run). */
function shareOf(split: 'validation' | 'test', label: number, n: number): number {
  const labels = loadSplit(split).slice(0, n).map((email) => email.label);
  return labels.filter((l) => l === label).length / labels.length;
}

describe('classPrior', () => {
  it('predicts the most frequent class (ties to the lower index) with add-one smoothed frequencies', () => {
    expect(classPrior([1, 1, 0], 2)).toEqual({ majority: 1, probabilities: [2 / 5, 3 / 5] });
    expect(classPrior([0, 1], 2).majority).toBe(0);
    expect(classPrior([0, 0, 0], 2).probabilities).toEqual([4 / 5, 1 / 5]);
  });
});

describe('zolo run --method majority | linear-probe', () => {
  it('majority scores exactly the class prior on validation and test', async () => {
    const summary = await zoloRun('majority', '--backend', 'cpu');
    // 8 + 8 training e-mails: a tie, so the majority is ham (0), and its loss is −log ½ on every row
    const validation = shareOf('validation', 0, EVAL_SIZE);
    const test = shareOf('test', 0, EVAL_SIZE);
    expect(summary).toMatchObject({ family: 'baseline', status: 'completed', steps: 0, forwardPasses: 0, trainableParams: 0 });
    expect(summary.eval!.accuracy).toBe(validation);
    expect(summary.selected).toMatchObject({ step: 0, validation: { accuracy: validation }, test: { accuracy: test } });
    // the mean of 32 copies of ln 2, summed in float64: within 32 ulps of ln 2
    for (const result of [summary.eval!, summary.selected!.test!]) expect(result.loss).toBeCloseTo(Math.log(2), 12);
    expect(summary.classCounts).toEqual({
      train: [8, 8],
      validation: [validation * EVAL_SIZE, (1 - validation) * EVAL_SIZE],
      test: [test * EVAL_SIZE, (1 - test) * EVAL_SIZE],
    });
  });

  it('linear-probe fits on frozen features and reports validation and test in the summary', async () => {
    const summary = await zoloRun('linear-probe', '--backend', 'wasm', '--set', 'options.lambdas=[0.01,1]');
    // 16 training e-mails at batch 16: one forward pass; the probe has d = 128 weights and a bias
    expect(summary).toMatchObject({ family: 'baseline', status: 'completed', steps: 0, forwardPasses: 1, trainableParams: 129 });
    expect(summary.selected!.validation).toEqual(summary.eval);
    for (const result of [summary.eval!, summary.selected!.test!]) {
      expect(result.accuracy).toBeGreaterThanOrEqual(0);
      expect(result.accuracy).toBeLessThanOrEqual(1);
      expect(Number.isFinite(result.loss) && result.loss > 0).toBe(true);
      // accuracy is a count of the 32 rows
      expect(Number.isInteger(result.accuracy * EVAL_SIZE)).toBe(true);
    }
    expect(summary.memory.peakBytes.activation).toBeGreaterThan(0); // the features came from real forward passes
  });

  it('rejects an option the probe does not have before any work', async () => {
    await expect(zoloRun('linear-probe', '--set', 'options.lr=1')).rejects.toThrow(/options.lr is not an option of linear-probe; allowed: lambdas/);
  });
});
