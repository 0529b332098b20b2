import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import './fixtures/fixtureMethods.ts';
import { renderPlots } from '../../src/experiment/plots.ts';
import { groupRows, renderReport } from '../../src/experiment/report.ts';
import type { SuiteResults } from '../../src/experiment/results.ts';
import { checkSuite, knownNames, loadSuitePlugins, readSuiteFile, runSuite } from '../../src/experiment/suite.ts';
import { parseSuite, planSuite } from '../../src/experiment/suiteConfig.ts';
import { ConfigError } from '../../src/errors.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-suite-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const smallSuite = {
  name: 'small',
  targetAccuracy: 0.8,
  base: { backend: 'cpu', task: 'synthetic-blobs', model: 'linear', steps: 20, evalInterval: 5, checkpointEvery: 5 },
  seeds: [0, 1],
  runs: [
    { label: 'zero-shot', method: 'zero-shot' },
    { label: 'MeZO', method: 'mezo', grid: { lr: [0.01, 0.03] } },
    { label: 'SGD', method: 'fixture-sgd' },
    { label: 'NaN', method: 'fixture-nan', options: { nanAt: 3 } },
  ],
};

/** Minimal well-formedness check of an SVG document: one root <svg>, every tag closed in order. */
function assertWellFormedSvg(svg: string): void {
  expect(svg.trimStart().startsWith('<svg')).toBe(true);
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([A-Za-z][\w:-]*)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = match;
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else stack.push(name!);
  }
  expect(stack).toEqual([]);
}

describe('suite plans', () => {
  it('expands entries × grid points × seeds, each validated, with unique folders', () => {
    const plan = planSuite(parseSuite(smallSuite), 'x', knownNames());
    expect(plan.map((run) => run.id)).toEqual([
      'zero-shot-s0', 'zero-shot-s1', 'mezo-lr=0.01-s0', 'mezo-lr=0.01-s1', 'mezo-lr=0.03-s0', 'mezo-lr=0.03-s1', 'sgd-s0', 'sgd-s1', 'nan-s0', 'nan-s1',
    ]);
    expect(plan[2]!.config).toMatchObject({ method: 'mezo', lr: 0.01, seed: 0, steps: 20, out: join('x', 'runs', 'mezo-lr=0.01-s0') });
    expect(plan[2]!.group).toBe('MeZO (lr=0.01)');
  });

  it('accepts the fine-tuning recipe fields in base, runs and grids', () => {
    const recipe = {
      ...smallSuite,
      base: { ...smallSuite.base, lrSchedule: 'step', lrStepEvery: 10, lrWarmup: 2, selectBy: 'val-loss', divergeFactor: 8, accuracyTargets: [0.7] },
      runs: [
        { label: 'MeZO-head', method: 'mezo', trainable: ['head'], grid: { lrStepFactor: [0.5, 0.1] } },
        { label: 'SGD', method: 'fixture-sgd', selectBy: 'last', grid: { trainable: [['head.bias'], null] } },
      ],
    };
    const plan = planSuite(parseSuite(recipe), 'x', knownNames());
    expect(plan[0]!.config).toMatchObject({ lrSchedule: 'step', lrStepEvery: 10, lrStepFactor: 0.5, lrWarmup: 2, selectBy: 'val-loss', divergeFactor: 8, accuracyTargets: [0.7], trainable: ['head'] });
    expect(plan.filter((run) => run.config.method === 'fixture-sgd').map((run) => run.config.trainable)).toEqual([['head.bias'], ['head.bias'], null, null]);
    const refused = { ...recipe, runs: [{ label: 'LoRA', method: 'mezo-lora', trainable: ['head'] }] };
    expect(() => planSuite(parseSuite(refused), 'x', knownNames())).toThrow('runs[0] (LoRA).trainable must be null for method mezo-lora');
  });

  it('names the entry and the field of a bad run', () => {
    const bad = (runs: unknown[]) => () => planSuite(parseSuite({ ...smallSuite, runs }), 'x', knownNames());
    expect(bad([{ label: 'A', method: 'mezo', steps: -1 }])).toThrow('runs[0] (A).steps must be an integer ≥ 0');
    expect(bad([{ label: 'A', method: 'mezzo' }])).toThrow('runs[0] (A).method must be one of');
    expect(bad([{ label: 'A', method: 'mezo', stpes: 3 }])).toThrow('runs[0] (A): unknown key "stpes"');
    expect(bad([{ label: 'A', method: 'mezo', options: { eps: -1 } }])).toThrow('runs[0] (A): estimator.eps must be');
    expect(bad([{ label: 'A', method: 'mezo', grid: { lr: [] } }])).toThrow(ConfigError);
    expect(() => parseSuite({ ...smallSuite, runs: [] })).toThrow(/runs must be a non-empty array/);
  });
});

describe('zolo suite', () => {
  it('runs the grid, writes results, report and plots; resume skips finished runs', async () => {
    const out = join(root, 'suite');
    const first = await runSuite(parseSuite(smallSuite), { out });
    expect(first).toMatchObject({ ran: 10, skipped: 0 });
    expect(readdirSync(join(out, 'plots')).sort()).toEqual(['accuracy-vs-forward-passes.svg', 'accuracy-vs-wall-time.svg', 'loss-vs-forward-passes.svg', 'loss-vs-step.svg', 'memory-by-category.svg']);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    for (const group of ['zero-shot', 'MeZO (lr=0.01)', 'MeZO (lr=0.03)', 'SGD', 'NaN']) expect(report).toContain(`| ${group} |`);
    expect(report).toContain('| NaN | diverged | diverged in 2 of 2 seeds |');
    expect(report).toMatch(/NaN, seed \d: diverged at step 3/);

    // an interrupted suite: one run lost its summary (killed before the end)
    const finishedSummary = join(out, 'runs', 'sgd-s0', 'summary.json');
    const mtime = statSync(finishedSummary).mtimeMs;
    rmSync(join(out, 'runs', 'mezo-lr=0.03-s1', 'summary.json'));
    const resumed = await runSuite(parseSuite(smallSuite), { out, resume: true });
    expect(resumed).toMatchObject({ ran: 1, skipped: 9 });
    expect(statSync(finishedSummary).mtimeMs).toBe(mtime);
    expect(resumed.results.runs).toHaveLength(10);

    await expect(runSuite(parseSuite(smallSuite), { out })).rejects.toThrow(/already exists and is not empty/);
  });

  it('resume runs the suite file as it is now: an extended grid joins, a started run may not change or go', async () => {
    const out = join(root, 'extended');
    const entry = (lrs: number[]) => ({ ...smallSuite, seeds: [0], runs: [{ label: 'MeZO', method: 'mezo', grid: { lr: lrs } }] });
    await runSuite(parseSuite(entry([0.01, 0.03])), { out });
    const finished = join(out, 'runs', 'mezo-lr=0.01-s0', 'summary.json');
    const mtime = statSync(finished).mtimeMs;

    // the best lr sat on an edge: the grid grows by one value, the finished runs stay as they are
    const grown = await runSuite(parseSuite(entry([0.01, 0.03, 0.1])), { out, resume: true, file: 'grid.json' });
    expect(grown).toMatchObject({ ran: 1, skipped: 2, change: { added: ['mezo-lr=0.1-s0'], dropped: [] } });
    expect(statSync(finished).mtimeMs).toBe(mtime);
    expect(grown.results.runs.map((run) => run.id)).toEqual(['mezo-lr=0.01-s0', 'mezo-lr=0.03-s0', 'mezo-lr=0.1-s0']);
    expect(JSON.parse(readFileSync(join(out, 'suite.json'), 'utf8')).runs[0].grid.lr).toEqual([0.01, 0.03, 0.1]);

    // a started run whose entry now says something else: refused, naming the run and the field
    const changed = { ...entry([0.01, 0.03, 0.1]), base: { ...smallSuite.base, steps: 40 } };
    await expect(runSuite(parseSuite(changed), { out, resume: true, file: 'grid.json' })).rejects.toThrow(
      '--resume: run "mezo-lr=0.01-s0" has started with a different steps than grid.json gives now',
    );
    await expect(runSuite(parseSuite(entry([0.01, 0.1])), { out, resume: true, file: 'grid.json' })).rejects.toThrow(
      '--resume: grid.json no longer has run "mezo-lr=0.03-s0", which has already started',
    );
    expect(statSync(finished).mtimeMs).toBe(mtime);
  });
});

describe('a suite file with committed results ("out")', () => {
  const committedSuite = (out: string) => ({ ...smallSuite, name: 'committed', out, seeds: [0], runs: [{ label: 'zero-shot', method: 'zero-shot' }] });

  it('runs into a fresh runs/<name>-<timestamp> and leaves the committed results alone', async () => {
    const committed = join(root, 'committed');
    mkdirSync(committed, { recursive: true });
    writeFileSync(join(committed, 'results.json'), '{"committed": true}\n');
    const suite = parseSuite(committedSuite(committed));
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const outcome = await runSuite(suite, {});
      expect(outcome.dir).toMatch(/^runs[\\/]committed-\d{8}-\d{6}Z$/);
      expect(existsSync(join(root, outcome.dir, 'results.json'))).toBe(true);
    } finally {
      process.chdir(cwd);
    }
    expect(readFileSync(join(committed, 'results.json'), 'utf8')).toBe('{"committed": true}\n');
    await expect(runSuite(suite, { resume: true })).rejects.toThrow(/--resume needs the suite folder/);
  });

  it('regenerates the committed results only when asked (--update-results)', async () => {
    const committed = join(root, 'committed-update');
    mkdirSync(committed, { recursive: true });
    writeFileSync(join(committed, 'results.json'), '{"committed": true}\n');
    const outcome = await runSuite(parseSuite(committedSuite(committed)), { updateResults: true });
    expect(outcome.dir).toBe(committed);
    expect(JSON.parse(readFileSync(join(committed, 'results.json'), 'utf8')).suite.name).toBe('committed');
    await expect(runSuite(parseSuite(committedSuite(committed)), { updateResults: true, out: join(root, 'elsewhere') })).rejects.toThrow(/--update-results writes to the suite's "out"/);
  });
});

describe('reports from fixture results', () => {
  const summary = (method: string, accuracy: number | null, status: 'completed' | 'diverged' = 'completed') => ({
    method, family: 'zo' as const, task: 'spam', model: 'tiny', backend: 'cpu', seed: 0, status,
    divergedAtStep: status === 'diverged' ? 7 : null, stoppedBy: 'steps' as const, steps: 100, forwardPasses: 200,
    trainableParams: 1000, totalParams: 1000, trainLoss: { first: 0.7, last: 0.3 },
    eval: accuracy === null ? null : { accuracy, loss: 0.4 },
    selected: accuracy === null ? null : { step: 100, forwardPasses: 200, wallSeconds: 3, by: 'val-accuracy' as const, validation: { accuracy, loss: 0.4 }, test: { accuracy, loss: 0.4 } },
    firstReached: { '0.85': null, '0.9': null },
    memory: { peakBytes: { weights: 4e6, adapter: 0, optimizerState: 8e6, gradient: 4e6, activation: 2e6, workspace: 0, total: 1.8e7 } },
    timing: { stepMsMedian: 12, forwardMsMedian: 5, wallSeconds: 3 },
    files: [],
  });
  const entry = (group: string, method: string, seed: number, accuracy: number | null, status: 'completed' | 'diverged' = 'completed') => ({
    id: `${group}-s${seed}`, label: group, group, seed, gridPoint: {}, config: { task: 'spam', model: 'tiny', backend: 'cpu', batchSize: 16 } as never,
    summary: { ...summary(method, accuracy, status), seed },
    curve: [
      { step: 0, forwardPasses: 0, trainLoss: null, lr: 1e-3, wallMs: 0, eval: { accuracy: 0.5, loss: 0.7 } },
      ...Array.from({ length: 50 }, (_, i) => ({ step: 2 * i + 2, forwardPasses: 4 * i + 4, trainLoss: 0.7 - 0.004 * i, lr: 1e-3, wallMs: 30 * i + 30, ...(i === 49 && accuracy !== null ? { eval: { accuracy, loss: 0.4 } } : {}) })),
    ],
  });
  const methods = ['zero-shot', 'AdamW', 'LoRA', 'GaLore', 'MeZO', 'MeZO-LoRA', 'LOZO', 'LOZO-M', 'AdaZeta'];
  const results: SuiteResults = {
    suite: { name: 'fixture', description: 'fixture results', targetAccuracy: 0.9 },
    runs: methods.flatMap((method) => [entry(method, method.toLowerCase(), 0, 0.9), entry(method, method.toLowerCase(), 1, 0.94)]).concat([entry('MeZO', 'mezo', 2, null, 'diverged')]),
  };

  it('has every method row, mean ± std over completed seeds, diverged runs excluded', () => {
    const report = renderReport(results, []);
    for (const method of methods) expect(report).toMatch(new RegExp(`^\\| ${method} \\|`, 'm'));
    const mezo = groupRows(results).find((row) => row.group === 'MeZO')!;
    expect(mezo.completed).toHaveLength(2);
    expect(mezo.diverged).toHaveLength(1);
    expect(mezo.accuracy!.mean).toBeCloseTo(0.92, 12);
    expect(mezo.accuracy!.std).toBeCloseTo(Math.SQRT2 * 0.02, 12); // sample std of {0.90, 0.94}
    // test and validation at the selected point; no class counts and no majority run, so no verdict
    expect(report).toContain('| MeZO | — | 2 (diverged in 1 of 3 seeds) | 92.0 ± 2.8 | 92.0 ± 2.8 |');
    expect(report).toContain('| linear probe | not run |');
    expect(report).toContain('MeZO, seed 2: diverged at step 7');
  });

  it('renders five SVG plots that parse', async () => {
    const plots = await renderPlots(results);
    expect(plots.map((plot) => plot.name)).toEqual(['loss-vs-step', 'loss-vs-forward-passes', 'accuracy-vs-forward-passes', 'accuracy-vs-wall-time', 'memory-by-category']);
    for (const plot of plots) assertWellFormedSvg(plot.svg);
    for (const method of methods) expect(plots[4]!.svg).toContain(`>${method}<`);
  });

  it('gives every one of more than ten method groups a colour of its own', async () => {
    const grid = Array.from({ length: 14 }, (_, i) => entry(`MeZO (lr=${i})`, 'mezo', 0, 0.9));
    const [lossPlot] = await renderPlots({ ...results, runs: grid });
    const strokes = new Set([...lossPlot!.svg.matchAll(/<path[^>]*stroke="(#[0-9a-f]{6})"/gi)].map((match) => match[1]!.toLowerCase()));
    expect(strokes.size).toBe(14);
  });
});

describe('the committed suites', () => {
  it('every benchmarks/suites/*.json validates completely (schema, runs, names, method options), plug-ins imported', async () => {
    const folder = join(import.meta.dirname, '../../benchmarks/suites');
    const files = readdirSync(folder).filter((name) => name.endsWith('.json'));
    expect(files).toEqual(expect.arrayContaining(['fidelity.json', 'mezo.json', 'lozo.json', 'adazeta.json', 'galore.json', 'zo-optimizers.json', 'demo.json']));
    for (const file of files) {
      const suite = readSuiteFile(join(folder, file));
      await loadSuitePlugins(suite);
      expect(checkSuite(suite).length).toBeGreaterThan(0);
    }
  });
});
