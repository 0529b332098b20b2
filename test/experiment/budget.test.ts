/**
 * A forward-pass budget is never exceeded: every estimator declares the passes of its next step
 * before running it (checked here against what the step then spends, for q > 1, the one-sided
 * scheme, ZO-SGD-Cons and AdaZeta's growing q), and the runner skips a step that would not fit,
 * saying so in the summary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import { parseRunConfig } from '../../src/experiment/config.ts';
import { readMetrics } from '../../src/experiment/results.ts';
import { runExperiment } from '../../src/experiment/runner.ts';
import { createEstimator, type Overrides } from '../../src/zo/index.ts';
import { diagonalQuadratic, fixtureValues, makeStore } from '../zo/quadratic.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-budget-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

describe('forward passes declared up front', () => {
  const cases: [string, Overrides][] = [
    ['mezo', { queries: 3 }],
    ['zo-sgd-one-sided', { queries: 2 }],
    ['zo-sgd-cons', {}],
    ['lozo', { queries: 2 }],
    // AdaZeta's schedule on plain parameters: q grows with the epoch (2 steps per epoch here)
    ['mezo', { schedule: 'adaptive', stepsPerEpoch: 2, totalEpochs: 4, queryTarget: 6, maxQueries: 6, queryScale: 1 }],
  ];
  for (const [method, overrides] of cases) {
    it(`${method} ${JSON.stringify(overrides)}: declared = spent at every step`, async () => {
      const store = makeStore([{ name: 'w', shape: [4, 4], values: fixtureValues(16, 7) }]);
      const problem = diagonalQuadratic(fixtureValues(16, 8).map((x) => 2 + x), fixtureValues(16, 9));
      const estimator = createEstimator(method, { lr: 0.01, ...overrides });
      let state = estimator.init(store, { seed: 1 });
      const spent: number[] = [];
      for (let step = 0; step < 8; step++) {
        const declared = estimator.forwardPassesAt(state, 0);
        const { state: next, record } = await estimator.step(state, { loss: problem.loss });
        expect(record.forwardPasses, `step ${step}`).toBe(declared);
        spent.push(record.forwardPasses);
        state = next;
      }
      if (overrides.schedule === 'adaptive') expect(new Set(spent).size).toBeGreaterThan(1);
    });
  }
});

describe('the runner never exceeds a forward-pass budget', () => {
  const run = (method: string, forwardPasses: number, options: Record<string, unknown> = {}) =>
    runExperiment(parseRunConfig({
      method, options, backend: 'cpu', task: 'synthetic-blobs', model: 'linear', lr: 0.01, steps: 1000,
      budget: { forwardPasses }, checkpointEvery: 0, out: join(root, `run-${counter++}`),
    }));

  it('ZO-SGD-Cons (5 passes a step) with a budget of 12 spends 10 and says it skipped step 2', async () => {
    const { summary } = await run('zo-sgd-cons', 12);
    expect(summary).toMatchObject({ steps: 2, forwardPasses: 10, stoppedBy: 'forwardPasses', budgetStop: { step: 2, passesNeeded: 5, passesLeft: 2 } });
  });

  it('q = 4 (8 passes a step) with a budget of 20 stops at 16; an exact fit spends it all and notes nothing', async () => {
    const cut = await run('mezo', 20, { queries: 4 });
    expect(cut.summary).toMatchObject({ steps: 2, forwardPasses: 16, budgetStop: { step: 2, passesNeeded: 8, passesLeft: 4 } });
    const exact = await run('mezo', 24, { queries: 4 });
    expect(exact.summary).toMatchObject({ steps: 3, forwardPasses: 24, stoppedBy: 'forwardPasses' });
    expect(exact.summary.budgetStop).toBeUndefined();
    expect(Math.max(...readMetrics(exact.dir).map((line) => line.forwardPasses))).toBe(24);
  });
});
