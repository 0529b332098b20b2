/**
 * The suite's SVG plots: vega-lite specs compiled to vega and rendered headless in Node
 * (`new vega.View(vega.parse(spec), { renderer: 'none' }).toSVG()`).
 *
 *   loss-vs-step                 training loss (mean over seeds, trailing moving average) per group
 *   loss-vs-forward-passes       the same against forward passes (the ZO methods' fair x-axis)
 *   accuracy-vs-forward-passes   validation accuracy per group: the mean over seeds at each evaluation
 *   accuracy-vs-wall-time        as a line, the min–max over seeds as a band, the class prior as a
 *                                dashed rule (the linear probe is one point: it evaluates once)
 *   memory-by-category           stacked bars: mean peak bytes per ledger category per group
 *
 * Diverged runs are left out of every plot; the majority run is drawn as the prior rule only. The moving-average window is ~1/25 of the longest curve
 * (at least 1 point): ZO losses are one minibatch at a perturbed point, too noisy to read raw.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { MEMORY_CATEGORIES } from '../tensor/ledger.ts';
import { groupRows } from './report.ts';
import type { SuiteResults } from './results.ts';
import { classPriorOf } from './verdict.ts';

export interface Plot {
  name: string;
  title: string;
  svg: string;
}

const WIDTH = 560;
const HEIGHT = 300;

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

interface LossPoint {
  group: string;
  step: number;
  forwardPasses: number;
  trainLoss: number;
}

function lossPoints(results: SuiteResults): LossPoint[] {
  const points: LossPoint[] = [];
  for (const run of results.runs) {
    if (run.summary.status !== 'completed') continue;
    for (const line of run.curve) {
      if (line.trainLoss === null || line.step === 0) continue;
      points.push({ group: run.group, step: line.step, forwardPasses: line.forwardPasses, trainLoss: line.trainLoss });
    }
  }
  return points;
}

/**
 * The colour channel for the method groups. Vega-Lite's default palette has 10 colours and repeats
 * after that, which made an lr grid of 40 runs unreadable; tableau20 keeps up to 20 groups distinct.
 */
function groupColor(groups: readonly { group: string }[]) {
  const count = new Set(groups.map((point) => point.group)).size;
  return {
    field: 'group', type: 'nominal' as const, title: 'method', legend: { orient: 'right' as const, labelLimit: 260 },
    ...(count > 10 ? { scale: { scheme: 'tableau20' } } : {}),
  };
}

function lossSpec(points: LossPoint[], x: 'step' | 'forwardPasses', title: string): TopLevelSpec {
  const longest = Math.max(1, ...points.map((p) => p.step));
  const window = Math.max(1, Math.round(longest / 25));
  // a log axis when the losses span more than two decades (a diverging group next to converging ones)
  const positive = points.map((p) => p.trainLoss).filter((v) => v > 0);
  const logScale = positive.length === points.length && Math.max(...positive) / Math.min(...positive) > 100;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    data: { values: points },
    transform: [
      { aggregate: [{ op: 'mean', field: 'trainLoss', as: 'meanLoss' }, { op: 'mean', field: 'forwardPasses', as: 'forwardPasses' }], groupby: ['group', 'step'] },
      { sort: [{ field: 'step' }], window: [{ op: 'mean', field: 'meanLoss', as: 'smoothedLoss' }], frame: [-window + 1, 0], groupby: ['group'] },
    ],
    mark: { type: 'line', strokeWidth: 1.8 },
    encoding: {
      x: { field: x, type: 'quantitative', title: x === 'step' ? 'step' : 'training forward passes' },
      y: { field: 'smoothedLoss', type: 'quantitative', title: `training loss (moving mean of ${window})`, scale: logScale ? { type: 'log' } : { zero: false } },
      color: groupColor(points),
    },
  };
}

/** One group's validation accuracy at one evaluation step, over its completed seeds. */
interface AccuracyPoint {
  group: string;
  step: number;
  forwardPasses: number;
  seconds: number;
  mean: number;
  min: number;
  max: number;
  seeds: number;
}

/**
 * Seeds of one group evaluate at the same steps, so they are aggregated per (group, step); x is the
 * mean over seeds of forward passes or seconds at that step (they differ only by timing noise).
 */
export function accuracyPoints(results: SuiteResults): AccuracyPoint[] {
  const byKey = new Map<string, { group: string; step: number; forwardPasses: number[]; seconds: number[]; accuracy: number[] }>();
  for (const run of results.runs) {
    if (run.summary.status !== 'completed' || run.summary.method === 'majority') continue;
    for (const line of run.curve) {
      if (!line.eval) continue;
      const key = JSON.stringify([run.group, line.step]);
      const entry = byKey.get(key) ?? { group: run.group, step: line.step, forwardPasses: [], seconds: [], accuracy: [] };
      entry.forwardPasses.push(line.forwardPasses);
      entry.seconds.push(line.wallMs / 1000);
      entry.accuracy.push(line.eval.accuracy);
      byKey.set(key, entry);
    }
  }
  const average = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
  return [...byKey.values()].map((entry) => ({
    group: entry.group,
    step: entry.step,
    forwardPasses: average(entry.forwardPasses),
    seconds: average(entry.seconds),
    mean: average(entry.accuracy),
    min: Math.min(...entry.accuracy),
    max: Math.max(...entry.accuracy),
    seeds: entry.accuracy.length,
  }));
}

function accuracySpec(results: SuiteResults, points: AccuracyPoint[], x: 'forwardPasses' | 'seconds', title: string): TopLevelSpec {
  const prior = classPriorOf(results)?.validation ?? null;
  const xAxis = { field: x, type: 'quantitative' as const, title: x === 'seconds' ? 'wall time (s)' : 'training forward passes' };
  const color = groupColor(points);
  const lowest = Math.min(...points.map((p) => p.min), ...(prior ? [prior.accuracy] : []));
  const y = { type: 'quantitative' as const, title: 'validation accuracy', axis: { format: '.0%' }, scale: { domain: [Math.max(0, Math.floor(lowest * 20) / 20), 1] } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: title, subtitle: 'line: mean over seeds · band: min–max over seeds · dashed: class prior (validation)' },
    width: WIDTH,
    height: HEIGHT,
    background: 'white',
    // the band layer has no legend of its own; the line layer's names the methods
    resolve: { legend: { color: 'independent' } },
    layer: [
      {
        data: { values: points },
        mark: { type: 'area', opacity: 0.2 },
        encoding: { x: xAxis, y: { ...y, field: 'min' }, y2: { field: 'max' }, color: { ...color, legend: null } },
      },
      {
        data: { values: points },
        mark: { type: 'line', point: true, strokeWidth: 1.8 },
        encoding: {
          x: xAxis,
          y: { ...y, field: 'mean' },
          color,
          tooltip: [{ field: 'group' }, { field: 'step' }, { field: 'mean', format: '.1%', title: 'mean accuracy' }, { field: 'seeds' }],
        },
      },
      ...(prior
        ? [
            {
              data: { values: [{ prior: prior.accuracy, label: `class prior ${(100 * prior.accuracy).toFixed(1)} %` }] },
              layer: [
                { mark: { type: 'rule' as const, strokeDash: [6, 4], color: '#444', strokeWidth: 1.5 }, encoding: { y: { ...y, field: 'prior' } } },
                {
                  mark: { type: 'text' as const, align: 'right' as const, baseline: 'bottom' as const, dy: -2, color: '#444', x: WIDTH - 4 },
                  encoding: { y: { ...y, field: 'prior' }, text: { field: 'label' } },
                },
              ],
            },
          ]
        : []),
    ],
  } as TopLevelSpec;
}

function memorySpec(results: SuiteResults): TopLevelSpec {
  const rows = groupRows(results).filter((row) => row.memory !== null);
  const largest = Math.max(0, ...rows.map((row) => row.memory!.total));
  const [unit, divisor] = largest >= 1024 ** 3 ? ['GiB', 1024 ** 3] : largest >= 1024 ** 2 ? ['MiB', 1024 ** 2] : ['KiB', 1024];
  const values = rows.flatMap((row) => MEMORY_CATEGORIES.map((category, order) => ({ group: row.group, category, order, amount: row.memory![category] / divisor })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Peak memory by category (MemoryLedger)',
    width: WIDTH,
    height: { step: 22 },
    background: 'white',
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'group', type: 'nominal', title: null, sort: null, axis: { labelLimit: 260 } },
      x: { field: 'amount', type: 'quantitative', title: `peak ${unit} per category (stacked)`, stack: 'zero' },
      color: { field: 'category', type: 'nominal', title: 'category', scale: { domain: [...MEMORY_CATEGORIES] } },
      order: { field: 'order', type: 'quantitative' },
      tooltip: [{ field: 'group' }, { field: 'category' }, { field: 'amount', format: '.2f', title: unit }],
    },
  };
}

export async function renderPlots(results: SuiteResults): Promise<Plot[]> {
  const points = lossPoints(results);
  const plots: Plot[] = [];
  if (points.length > 0) {
    plots.push({ name: 'loss-vs-step', title: 'Training loss vs step', svg: await toSvg(lossSpec(points, 'step', 'Training loss vs step')) });
    plots.push({
      name: 'loss-vs-forward-passes',
      title: 'Training loss vs forward passes',
      svg: await toSvg(lossSpec(points, 'forwardPasses', 'Training loss vs forward passes')),
    });
  }
  const accuracy = accuracyPoints(results);
  plots.push({
    name: 'accuracy-vs-forward-passes',
    title: 'Validation accuracy vs forward passes',
    svg: await toSvg(accuracySpec(results, accuracy, 'forwardPasses', 'Validation accuracy vs training forward passes')),
  });
  plots.push({ name: 'accuracy-vs-wall-time', title: 'Validation accuracy vs wall time', svg: await toSvg(accuracySpec(results, accuracy, 'seconds', 'Validation accuracy vs wall time')) });
  plots.push({ name: 'memory-by-category', title: 'Peak memory by category', svg: await toSvg(memorySpec(results)) });
  return plots;
}
