import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import { parseRunConfig, type SelectBy } from '../../src/experiment/config.ts';
import { readMetrics } from '../../src/experiment/results.ts';
import { runExperiment } from '../../src/experiment/runner.ts';
import { isNewBest, updateFirstReached } from '../../src/experiment/selection.ts';
import { createBlobsWorkload } from '../../src/experiment/synthetic.ts';
import { registerWorkload, type EvalSplit } from '../../src/experiment/workload.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-selection-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/**
 * A spy around synthetic-blobs: records every evaluation's split in order, and with
 * `randomTest: true` answers test evaluations with random numbers instead of the real ones.
 */
const calls: EvalSplit[] = [];
registerWorkload('spy-blobs', async (request) => {
  const { randomTest, ...blobsOptions } = request.taskOptions as { randomTest?: boolean };
  const inner = await createBlobsWorkload({ ...request, taskOptions: blobsOptions });
  const noise = seedrandom('test-split-noise');
  return {
    ...inner,
    async evaluate(size, split) {
      calls.push(split);
      if (split === 'test' && randomTest) return { accuracy: noise(), loss: 10 * noise() };
      return inner.evaluate(size, split);
    },
  };
});

async function spyRun(selectBy: SelectBy, randomTest: boolean) {
  calls.length = 0;
  // a small validation set and a modest lr keep accuracy moving up and down, so selection has choices to make
  const config = parseRunConfig({
    backend: 'cpu', task: 'spy-blobs', model: 'linear', method: 'mezo', lr: 0.05, steps: 60, evalInterval: 5, selectBy,
    taskOptions: { randomTest, validationSize: 24, separation: 0.3 }, out: join(root, `run-${counter++}`),
  });
  const result = await runExperiment(config);
  return { ...result, calls: [...calls], lines: readMetrics(result.dir) };
}

describe('selection on validation, test at new bests only', () => {
  for (const selectBy of ['val-accuracy', 'val-loss', 'last'] as const) {
    it(`${selectBy}: replacing test results by random numbers changes no choice; test runs exactly at new-best points`, async () => {
      const real = await spyRun(selectBy, false);
      const random = await spyRun(selectBy, true);
      const evalLines = (lines: typeof real.lines) => lines.filter((line) => line.eval).map(({ wallMs: _wallMs, test: _test, ...rest }) => rest);
      expect(evalLines(random.lines)).toEqual(evalLines(real.lines));
      expect(random.summary.selected!.step).toBe(real.summary.selected!.step);
      expect(random.summary.selected!.validation).toEqual(real.summary.selected!.validation);
      expect(random.summary.firstReached).toEqual(real.summary.firstReached);

      // the new-best steps, recomputed from the validation sequence alone
      const points = real.lines.filter((line) => line.eval);
      const expectedBest: number[] = [];
      let best = null;
      for (const [index, line] of points.entries()) {
        if (isNewBest(selectBy, line.eval!, best, index === points.length - 1)) {
          expectedBest.push(line.step);
          best = line.eval!;
        }
      }
      for (const run of [real, random]) {
        expect(run.lines.filter((line) => line.test).map((line) => line.step)).toEqual(expectedBest);
        // every test evaluation directly follows the validation evaluation of its point
        expect(run.calls.filter((split) => split === 'test')).toHaveLength(expectedBest.length);
        run.calls.forEach((split, index) => split === 'test' && expect(run.calls[index - 1]).toBe('validation'));
        expect(run.summary.selected).toMatchObject({ step: expectedBest.at(-1), by: selectBy });
      }
      if (selectBy === 'last') expect(expectedBest).toEqual([60]);
      else expect(expectedBest.length).toBeGreaterThan(1);
      expect(real.summary.selected!.test).toEqual(real.lines.find((line) => line.step === real.summary.selected!.step && line.test)!.test);
      expect(real.summary.eval).toEqual(points.at(-1)!.eval);
    });
  }

  it('a run stopped by a budget on an evaluation step evaluates that step once, as its final point', async () => {
    // mezo spends 2 forward passes per step, so a budget of 40 stops after step 20, an evaluation step
    const config = parseRunConfig({
      backend: 'cpu', task: 'synthetic-blobs', model: 'linear', method: 'mezo', steps: 100, evalInterval: 5, selectBy: 'last',
      budget: { forwardPasses: 40 }, out: join(root, `run-${counter++}`),
    });
    const { dir, summary } = await runExperiment(config);
    const lines = readMetrics(dir).filter((line) => line.eval);
    expect(lines.map((line) => line.step)).toEqual([0, 5, 10, 15, 20]);
    expect(lines.filter((line) => line.test).map((line) => line.step)).toEqual([20]);
    expect(summary).toMatchObject({ steps: 20, stoppedBy: 'forwardPasses', selected: { step: 20, by: 'last' } });
  });

  it('selectBy defaults to val-accuracy with evaluations during training, last without', async () => {
    const base = { backend: 'cpu', task: 'synthetic-blobs', model: 'linear', method: 'mezo', steps: 10 };
    const during = await runExperiment(parseRunConfig({ ...base, evalInterval: 5, out: join(root, `run-${counter++}`) }));
    expect(during.summary.selected!.by).toBe('val-accuracy');
    const atEnd = await runExperiment(parseRunConfig({ ...base, out: join(root, `run-${counter++}`) }));
    expect(atEnd.summary.selected).toMatchObject({ by: 'last', step: 10 });
    expect(atEnd.summary.selected!.test).not.toBeNull();
  });
});

describe('isNewBest', () => {
  it('val-accuracy prefers higher accuracy, then lower loss; val-loss lower loss; last only the final point', () => {
    const at = (accuracy: number, loss: number) => ({ accuracy, loss });
    expect(isNewBest('val-accuracy', at(0.8, 0.5), null, false)).toBe(true);
    expect(isNewBest('val-accuracy', at(0.8, 0.5), at(0.7, 0.1), false)).toBe(true);
    expect(isNewBest('val-accuracy', at(0.8, 0.4), at(0.8, 0.5), false)).toBe(true);
    expect(isNewBest('val-accuracy', at(0.8, 0.5), at(0.8, 0.5), false)).toBe(false);
    expect(isNewBest('val-loss', at(0.1, 0.4), at(0.9, 0.5), false)).toBe(true);
    expect(isNewBest('val-loss', at(0.9, 0.5), at(0.1, 0.5), false)).toBe(false);
    expect(isNewBest('last', at(0.9, 0.1), null, false)).toBe(false);
    expect(isNewBest('last', at(0.1, 0.9), at(0.9, 0.1), true)).toBe(true);
  });

  it('firstReached keeps the first point at or above each target', () => {
    const targets = [0.85, 0.9];
    let reached = updateFirstReached({ '0.85': null, '0.9': null }, targets, 0.86, { step: 5, forwardPasses: 10, wallSeconds: 1 });
    reached = updateFirstReached(reached, targets, 0.95, { step: 10, forwardPasses: 20, wallSeconds: 2 });
    reached = updateFirstReached(reached, targets, 0.99, { step: 15, forwardPasses: 30, wallSeconds: 3 });
    expect(reached).toEqual({ '0.85': { step: 5, forwardPasses: 10, wallSeconds: 1 }, '0.9': { step: 10, forwardPasses: 20, wallSeconds: 2 } });
  });
});
