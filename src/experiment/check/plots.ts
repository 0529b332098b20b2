/**
 * SVG figures of a check, vega-lite compiled to vega and rendered headless (the same path as the
 * suite's plots, src/experiment/plots.ts):
 *
 *   singular-value-decay   σ_i/σ₁ of each 2-D weight's gradient at step 0 (log y): how fast the spectrum falls
 *   stable-rank            stable rank of each weight's gradient at every snapshot of the short run
 *   dimension-factor       measured E‖ĝ‖²/‖g‖² (± 1.96 SE) next to theory and d + 2, per estimator (log y)
 *   ritz-values            Lanczos Ritz values of the Hessian at θ₀, largest first (subtitle: traces, r₊)
 *   projector-drift        energy of G_t a rank-r projector from step 0 keeps, against t
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { CheckResults } from './runCheck.ts';

export interface CheckPlot {
  name: string;
  title: string;
  svg: string;
}

const WIDTH = 520;
const HEIGHT = 300;
const SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

const legend = { orient: 'right', labelLimit: 320 } as const;

function decaySpec(results: CheckResults): TopLevelSpec {
  const values = results.lowRank.layers.flatMap((layer) => {
    const first = layer.snapshots[0];
    if (!first || !(first.singularValues[0]! > 0)) return [];
    return first.singularValues.map((s, i) => ({ layer: `${layer.name} [${layer.rows}×${layer.cols}]`, index: i + 1, ratio: Math.max(s / first.singularValues[0]!, 1e-8) }));
  });
  return {
    $schema: SCHEMA,
    title: 'Gradient singular values at step 0 (σᵢ/σ₁)',
    width: WIDTH, height: HEIGHT, background: 'white',
    data: { values },
    mark: { type: 'line', point: { size: 14 }, strokeWidth: 1.4 },
    encoding: {
      x: { field: 'index', type: 'quantitative', title: 'i', scale: { type: 'log' } },
      y: { field: 'ratio', type: 'quantitative', title: 'σᵢ / σ₁', scale: { type: 'log' } },
      color: { field: 'layer', type: 'nominal', title: 'weight', legend },
    },
  };
}

function stableRankSpec(results: CheckResults): TopLevelSpec {
  const values = results.lowRank.layers.flatMap((layer) => layer.snapshots.map((s) => ({ layer: layer.name, step: s.step, stableRank: s.stableRank })));
  return {
    $schema: SCHEMA,
    title: `Stable rank ‖G‖_F²/‖G‖₂² during ${results.lowRank.steps} AdamW steps`,
    width: WIDTH, height: HEIGHT, background: 'white',
    data: { values },
    mark: { type: 'line', point: true, strokeWidth: 1.4 },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'training step' },
      y: { field: 'stableRank', type: 'quantitative', title: 'stable rank', scale: { type: 'log' } },
      color: { field: 'layer', type: 'nominal', title: 'weight', legend },
    },
  };
}

function dimensionFactorSpec(results: CheckResults): TopLevelSpec {
  const values = results.estimators.flatMap((e) => {
    const label = `${e.method} (d=${e.dim.toLocaleString('en-US')})`;
    const f = e.quality.dimensionFactor;
    const rows = [{ method: label, kind: 'measured', value: f.mean, low: Math.max(f.low, f.mean / 100), high: f.high }];
    if (e.theory !== null) rows.push({ method: label, kind: 'theory', value: e.theory, low: e.theory, high: e.theory });
    rows.push({ method: label, kind: 'd + 2 (Gaussian SPSA)', value: e.gaussianReference, low: e.gaussianReference, high: e.gaussianReference });
    return rows;
  });
  return {
    $schema: SCHEMA,
    title: 'Dimension factor E‖ĝ‖²/‖g‖²: measured (95% CI) vs theory',
    width: WIDTH, height: { step: 34 }, background: 'white',
    data: { values },
    layer: [
      { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x: { field: 'low', type: 'quantitative', scale: { type: 'log' }, title: 'E‖ĝ‖² / ‖g‖²' }, x2: { field: 'high' } } },
      { mark: { type: 'point', filled: true, size: 70 }, encoding: { x: { field: 'value', type: 'quantitative', scale: { type: 'log' } }, shape: { field: 'kind', type: 'nominal', title: null, legend: null } } },
    ],
    encoding: {
      y: { field: 'method', type: 'nominal', title: null, axis: { labelLimit: 260 } },
      yOffset: { field: 'kind', type: 'nominal' },
      color: { field: 'kind', type: 'nominal', title: null, legend: { orient: 'bottom', labelLimit: 320 } },
    },
  } as TopLevelSpec;
}

function ritzSpec(results: CheckResults): TopLevelSpec {
  const values = results.hessian.spectrum.ritzValues.map((value, i) => ({ index: i + 1, value }));
  const h = results.hessian;
  return {
    $schema: SCHEMA,
    title: { text: 'Hessian Ritz values at θ₀ (Lanczos)', subtitle: `tr(H) ≈ ${h.trace.mean.toPrecision(3)}, tr(H₊) ≈ ${h.slq.positiveTrace.mean.toPrecision(3)} (SLQ), r₊ = tr(H₊)/λ_max ≈ ${h.positiveEffectiveRank.toPrecision(3)} of d = ${results.dim.toLocaleString('en-US')}` },
    width: WIDTH, height: HEIGHT, background: 'white',
    data: { values },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'index', type: 'ordinal', title: 'Ritz value (largest first)' },
      y: { field: 'value', type: 'quantitative', title: 'eigenvalue estimate' },
    },
  };
}

function driftSpec(results: CheckResults): TopLevelSpec {
  const values: { rank: string; step: number; captured: number }[] = [];
  for (const rank of results.lowRank.ranks) {
    for (const step of results.lowRank.snapshotSteps) {
      const measures = results.lowRank.layers.flatMap((l) => l.drift.filter((d) => d.from === 0 && d.to === step && d.rank === rank));
      const best = results.lowRank.layers.flatMap((l) => l.snapshots.filter((s) => s.step === step).map((s) => s.energyAtRank[rank]!)).filter((x) => x !== undefined);
      const captured = step === 0 ? best : measures.map((d) => d.captured);
      if (captured.length > 0) values.push({ rank: `r = ${rank}`, step, captured: captured.reduce((s, x) => s + x, 0) / captured.length });
    }
  }
  return {
    $schema: SCHEMA,
    title: 'Gradient energy kept by the step-0 projector (mean over weights)',
    width: WIDTH, height: HEIGHT, background: 'white',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'training step t (projector from step 0)' },
      y: { field: 'captured', type: 'quantitative', title: '‖P₀ᵀG_t‖²/‖G_t‖²', scale: { domain: [0, 1] } },
      color: { field: 'rank', type: 'nominal', title: 'rank', sort: null },
    },
  };
}

export async function renderCheckPlots(results: CheckResults): Promise<CheckPlot[]> {
  const plots: CheckPlot[] = [
    { name: 'singular-value-decay', title: 'Gradient singular-value decay per weight (step 0)', svg: await toSvg(decaySpec(results)) },
    { name: 'stable-rank', title: 'Gradient stable rank per weight during training', svg: await toSvg(stableRankSpec(results)) },
    { name: 'projector-drift', title: 'Energy kept by a stale rank-r projector', svg: await toSvg(driftSpec(results)) },
    { name: 'ritz-values', title: 'Hessian Ritz values', svg: await toSvg(ritzSpec(results)) },
  ];
  if (results.estimators.length > 0) {
    plots.push({ name: 'dimension-factor', title: 'Dimension factor: measured vs theory', svg: await toSvg(dimensionFactorSpec(results)) });
  }
  return plots;
}
