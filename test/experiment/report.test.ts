/**
 * Reports against the class prior: where the prior comes from, the verdict rule, the per-seed
 * formatting, the cost-to-target columns and the prior rule in the accuracy plots.
 */
import { describe, expect, it } from 'vitest';
import { accuracyPoints, renderPlots } from '../../src/experiment/plots.ts';
import { firstReachedOf, groupRows, headToHeadTable, verdictRule } from '../../src/experiment/report.ts';
import type { RunResultEntry, SuiteResults } from '../../src/experiment/results.ts';
import type { RunSummary } from '../../src/experiment/runner.ts';
import { classPriorOf, learnedThreshold, verdictOf } from '../../src/experiment/verdict.ts';

// 415 ham / 190 spam in each held-out split, as the e-mail task's validation and test splits
const classCounts = { train: [3320, 1516], validation: [415, 190], test: [415, 190] };
const PRIOR = 415 / 605;

function run(group: string, method: string, seed: number, accuracies: number[], test: number | null, extra: Partial<RunSummary> = {}): RunResultEntry {
  const curve = accuracies.map((accuracy, i) => ({ step: 10 * i, forwardPasses: 20 * i, trainLoss: i === 0 ? null : 0.5, lr: 1e-3, wallMs: 1000 * i, eval: { accuracy, loss: 0.5 } }));
  const last = curve.at(-1)!;
  const summary: RunSummary = {
    method, family: 'zo', task: 'spam', model: 'tiny', backend: 'cpu', seed, status: 'completed', divergedAtStep: null, stoppedBy: 'steps',
    steps: last.step, forwardPasses: last.forwardPasses, trainableParams: 10, totalParams: 10, trainLoss: { first: 0.7, last: 0.5 }, eval: last.eval,
    memory: { peakBytes: { weights: 1, adapter: 0, optimizerState: 0, gradient: 0, activation: 1, workspace: 0, total: 2 } },
    timing: { stepMsMedian: 10, forwardMsMedian: 5, wallSeconds: last.wallMs / 1000 }, files: [],
    selected: test === null ? null : { step: last.step, forwardPasses: last.forwardPasses, wallSeconds: last.wallMs / 1000, by: 'last', validation: last.eval, test: { accuracy: test, loss: 0.5 } },
    firstReached: {},
    classCounts,
    ...extra,
  };
  return { id: `${group}-s${seed}`, label: group, group, seed, gridPoint: {}, config: { evalSize: 0 } as never, summary, curve };
}

const diverged = (group: string, method: string, seed: number): RunResultEntry => {
  const entry = run(group, method, seed, [0.6], null);
  return { ...entry, summary: { ...entry.summary, status: 'diverged', divergedAtStep: 3, eval: null } };
};

const suite = (runs: RunResultEntry[]): SuiteResults => ({ suite: { name: 'fixture', description: '', targetAccuracy: null }, runs });

describe('the verdict', () => {
  it('is "learned" only above p + 2·√(p(1−p)/n)', () => {
    const prior = { accuracy: PRIOR, size: 605 };
    const bar = PRIOR + 2 * Math.sqrt((PRIOR * (1 - PRIOR)) / 605); // 0.6860 + 0.0377
    expect(learnedThreshold(prior)).toBeCloseTo(bar, 15);
    expect(verdictOf(bar + 1e-9, prior)).toBe('learned');
    expect(verdictOf(bar, prior)).toBe('at chance');
    expect(verdictOf(PRIOR, prior)).toBe('at chance');
  });

  it('takes the prior from the class counts without a majority run, and from the majority run with one', () => {
    const mezo = run('MeZO', 'mezo', 0, [0.69], 0.7);
    expect(classPriorOf(suite([mezo]))).toEqual({ source: 'class counts', validation: { accuracy: PRIOR, size: 605 }, test: { accuracy: PRIOR, size: 605 } });
    const majority = run('class prior', 'majority', 0, [0.7], 0.68);
    expect(classPriorOf(suite([mezo, majority]))).toEqual({ source: 'majority run', validation: { accuracy: 0.7, size: 605 }, test: { accuracy: 0.68, size: 605 } });
  });

  it('marks rows learned / at chance / diverged, prints one seed without ±, and counts diverged seeds', () => {
    const results = suite([
      run('AdamW', 'adamw', 0, [0.69, 0.9, 0.95], 0.94),
      run('AdamW', 'adamw', 1, [0.69, 0.86, 0.88], 0.92),
      run('MeZO', 'mezo', 0, [0.69, 0.7], 0.71), // 71.0 < 72.4: at chance
      diverged('MeZO', 'mezo', 1),
      diverged('ZO-Adam', 'zo-adam', 0),
      run('linear probe', 'linear-probe', 0, [0.9], 0.91),
    ]);
    const rows = groupRows(results);
    expect(rows.map((row) => [row.group, row.verdict])).toEqual([
      ['linear probe', 'learned'],
      ['AdamW', 'learned'],
      ['MeZO', 'at chance'],
      ['ZO-Adam', 'diverged'],
    ]);
    const table = headToHeadTable(results);
    const lines = table.split('\n');
    // the prior row comes first (no majority run), then the probe, then the methods
    expect(lines[2]).toMatch(/^\| class prior \(majority class, from the labels\) \| prior \| — \| 68\.6 \| 68\.6 \|/);
    expect(lines[3]).toMatch(/^\| linear probe \| learned \| 1 \| 91\.0 \| 90\.0 \| 0 fwd · 0 s \| 0 fwd · 0 s \|/);
    expect(table).toContain('| AdamW | learned | 2 | 93.0 ± 1.4 | 91.5 ± 4.9 | 20 fwd · 1 s | 20 fwd · 1 s (1/2 seeds) |');
    expect(table).toContain('| MeZO | at chance | 1 (diverged in 1 of 2 seeds) | 71.0 | 70.0 | not reached | not reached |');
    expect(table).toContain('| ZO-Adam | diverged | diverged in 1 of 1 seeds | — | — | — | — |');
    expect(verdictRule(results)).toContain('68.6 + 2·√(p(1−p)/n) = 72.4 %');
  });

  it('reads the cost of a target from summary.firstReached when recorded, else from the curve', () => {
    const recorded = run('A', 'adamw', 0, [0.5, 0.9], 0.9, { firstReached: { '0.85': { step: 5, forwardPasses: 7, wallSeconds: 0.5 }, '0.9': null } });
    expect(firstReachedOf(recorded, 0.85)).toEqual({ step: 5, forwardPasses: 7, wallSeconds: 0.5 });
    expect(firstReachedOf(recorded, 0.9)).toBeNull();
    expect(firstReachedOf(run('B', 'adamw', 0, [0.5, 0.9], 0.9), 0.9)).toEqual({ step: 10, forwardPasses: 20, wallSeconds: 1 });
  });
});

describe('accuracy plots', () => {
  it('aggregate seeds into mean and min–max per evaluation, leave out the majority run, and draw the prior', async () => {
    const results = suite([run('A', 'adamw', 0, [0.7, 0.8], 0.8), run('A', 'adamw', 1, [0.7, 0.9], 0.9), run('class prior', 'majority', 0, [PRIOR], PRIOR)]);
    const points = accuracyPoints(results);
    expect(points).toHaveLength(2);
    expect(points[1]).toMatchObject({ group: 'A', step: 10, min: 0.8, max: 0.9, seeds: 2 });
    expect(points[1]!.mean).toBeCloseTo(0.85, 15);
    const plots = await renderPlots(results);
    for (const name of ['accuracy-vs-forward-passes', 'accuracy-vs-wall-time']) {
      const svg = plots.find((plot) => plot.name === name)!.svg;
      expect(svg).toContain('class prior 68.6 %');
      expect(svg).not.toContain('>class prior<'); // no legend entry or line for the majority run
    }
  });
});
