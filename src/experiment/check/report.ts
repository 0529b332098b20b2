/**
 * report.md of a check: tables of every measurement and a plain-language verdict per premise.
 * Verdict thresholds:
 *   estimator matches theory     |measured − theory| ≤ 3 SE of the measured mean
 *   estimator bias               the running mean's relative error after N draws against √((F−1)/N),
 *                                its expectation for an unbiased estimator with factor F (ratio ≫ 1 ⇒ bias)
 *   low effective rank (MeZO)    r₊/d < 1% strong, < 10% holds, else not (r₊ = tr(H₊)/λ_max)
 *   low-rank gradients           mean best rank-8 energy ≥ 0.9 holds, ≥ 0.6 partly, else not
 *   slow subspace drift          the step-0 rank-8 projector keeps ≥ 80% of its best at the last step
 *   PL                           every ratio ‖∇f‖²/(2(f − 0)) > 0 (μ estimate is a lower bound)
 */
import type { EstimatorCheck, CheckResults } from './runCheck.ts';

export const REPORT_SECTIONS = [
  'Setup',
  'Estimator quality',
  'Smoothness',
  'Hessian effective rank',
  'Low-rank gradients',
  'PL indicator',
  'Do the premises hold at this scale?',
  'Figures',
] as const;

const fmt = (x: number, digits = 3): string => {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  return a >= 1e5 || a < 1e-2 ? x.toExponential(digits - 1) : x.toPrecision(digits);
};
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
const table = (header: string[], rows: string[][]): string =>
  [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function zScore(e: EstimatorCheck): number | null {
  if (e.theory === null) return null;
  const se = e.quality.dimensionFactor.standardError;
  return se > 0 ? (e.quality.dimensionFactor.mean - e.theory) / se : null;
}

function biasRatio(e: EstimatorCheck): { measured: number; unbiased: number } {
  const last = e.quality.convergence[e.quality.convergence.length - 1]!;
  const factor = e.quality.dimensionFactor.mean;
  return { measured: last.relativeError, unbiased: Math.sqrt(Math.max(0, factor - 1) / last.draws) };
}

function estimatorSection(results: CheckResults): string {
  if (results.estimators.length === 0) return '_No ZO estimator was requested (--method)._';
  const rows = results.estimators.map((e) => {
    const f = e.quality.dimensionFactor;
    const z = zScore(e);
    const last = e.quality.convergence[e.quality.convergence.length - 1]!;
    const bias = biasRatio(e);
    return [
      e.method, `${e.parts.perturbation} × ${e.parts.difference}`, e.trainable, e.dim.toLocaleString('en-US'), String(e.queries), fmt(e.eps),
      `${fmt(f.mean)} ± ${fmt(f.standardError, 2)}`, e.theory === null ? 'n/a' : fmt(e.theory), fmt(e.gaussianReference),
      e.theory === null ? 'n/a' : `${fmt(f.mean / e.theory)} (${z === null ? '—' : `${z.toFixed(1)} SE`})`,
      fmt(last.cosine), `${fmt(bias.measured)} / ${fmt(bias.unbiased)}`, fmt(e.quality.relativeVariance.mean),
    ];
  });
  const convergence = results.estimators.map((e) => [e.method, e.quality.convergence.map((c) => `${c.draws}: ${fmt(c.cosine)}`).join(', ')]);
  return [
    `Each draw is one estimate from the estimator's own parts (perturbation → dense Z, difference scheme on real losses at θ ± εZ), averaged over the schedule's q queries; no update is applied. Measured factor = mean of ‖ĝ‖²/‖g‖² over ${results.estimators[0]!.quality.draws} draws ± its standard error; "theory" is the formula for that perturbation at this gradient's split over tensors (docs/assumptions.md); d + 2 is Gaussian SPSA over the same d. LOZO's estimate includes the paper's 1/r (zolo's update follows the code, without it) and draws a fresh V per draw.`,
    '',
    table(['method', 'parts', 'trains', 'd', 'q', 'ε', 'E‖ĝ‖²/‖g‖²', 'theory', 'd + 2', 'measured/theory', `cos(mean, g) after ${results.estimators[0]!.quality.draws}`, 'rel. error of mean: measured / unbiased expectation', 'E‖ĝ−g‖²/‖g‖²'], rows),
    '',
    'Cosine between the running mean of the estimates and the tape gradient, by number of draws:',
    '',
    table(['method', 'cosine after n draws'], convergence),
  ].join('\n');
}

function smoothnessSection(results: CheckResults): string {
  const s = results.smoothness;
  return [
    `‖∇f(θ₀ + ρu) − ∇f(θ₀)‖/ρ over ${s.random.samples} random unit directions u (ρ = 1e-3) and along the normalised gradient; the largest ratio is a lower bound on the local gradient-Lipschitz constant L.`,
    '',
    table(['quantity', 'value'], [
      ['random directions: mean ± SE', `${fmt(s.random.mean)} ± ${fmt(s.random.standardError, 2)}`],
      ['random directions: max', fmt(s.random.max)],
      ...s.gradientDirection.map((g) => [`gradient direction, ρ = ${fmt(g.radius)}`, fmt(g.ratio)]),
      ['lower bound on L', fmt(s.lowerBound)],
      ['Lanczos λ_max (spectral estimate of L)', fmt(results.hessian.spectrum.top)],
    ]),
  ].join('\n');
}

function hessianSection(results: CheckResults): string {
  const h = results.hessian;
  const opNorm = Math.max(Math.abs(h.spectrum.top), Math.abs(h.spectrum.bottom));
  const ci = (x: { low: number; high: number }): string => `[${fmt(x.low / opNorm)}, ${fmt(x.high / opNorm)}]`;
  const slq = h.slq;
  return [
    `Hessian-vector products by central differences of tape gradients. Hutchinson with ${h.probes} Rademacher probes for tr(H); Lanczos (${h.spectrum.iterations} iterations, full reorthogonalisation) for the extremes; stochastic Lanczos quadrature (${slq.probes} probes × ${slq.iterations} steps) for the traces of the positive part H₊ and of |H|. Effective rank r = tr(H)/‖H‖_op (MeZO Assumption 1). At an indefinite Hessian negative curvature cancels positive curvature in tr(H), so the effective rank MeZO's bound can use is r₊ = tr(H₊)/λ_max (the smallest PSD H ⪰ ∇²f is ∇²f₊).`,
    '',
    table(['quantity', 'value'], [
      ['d (trainable parameters)', results.dim.toLocaleString('en-US')],
      ['tr(H) (Hutchinson, mean ± SE)', `${fmt(h.trace.mean)} ± ${fmt(h.trace.standardError, 2)}`],
      ['λ_max (top Ritz value)', fmt(h.spectrum.top)],
      ['λ_min (bottom Ritz value)', fmt(h.spectrum.bottom)],
      ['effective rank tr(H)/‖H‖_op (95% interval)', `${fmt(h.effectiveRank)} ${ci(h.trace)}`],
      ['effective rank / d', fmt(h.relativeToDimension)],
      ['tr(H₊) (SLQ, mean ± SE)', `${fmt(slq.positiveTrace.mean)} ± ${fmt(slq.positiveTrace.standardError, 2)}`],
      ['tr(|H|) (SLQ, mean ± SE)', `${fmt(slq.absoluteTrace.mean)} ± ${fmt(slq.absoluteTrace.standardError, 2)}`],
      ['tr(H) (SLQ probes, mean ± SE)', `${fmt(slq.trace.mean)} ± ${fmt(slq.trace.standardError, 2)}`],
      ['r₊ = tr(H₊)/λ_max', fmt(h.positiveEffectiveRank)],
      ['r₊ / d', fmt(h.positiveEffectiveRank / results.dim)],
      ['Ritz values', h.spectrum.ritzValues.map((v) => fmt(v)).join(', ')],
    ]),
    '',
    'Caveats: with few Lanczos iterations λ_max is approached from below, so ratios over λ_max over-estimate the rank (conservative for the premise); Hutchinson\'s SE is wide when H has large off-diagonal mass; SLQ\'s quadrature of max(x, 0) smooths the kink at 0 with k nodes, so tr(H₊) carries an O(1/k) quadrature error besides its SE; negative Ritz values mean θ₀ is not at a minimum.',
  ].join('\n');
}

function lowRankSection(results: CheckResults): string {
  const lr = results.lowRank;
  const steps = lr.snapshotSteps;
  const stable = lr.layers.map((l) => [
    l.name, `${l.rows}×${l.cols}`, l.side, String(Math.min(l.rows, l.cols)),
    ...steps.map((t) => fmt(l.snapshots.find((s) => s.step === t)?.stableRank ?? Number.NaN)),
    ...lr.ranks.map((r) => pct(l.snapshots[0]?.energyAtRank[r] ?? Number.NaN)),
  ]);
  const last = steps[steps.length - 1]!;
  const drift = lr.layers.map((l) => [
    l.name,
    ...lr.ranks.map((r) => {
      const d = l.drift.find((x) => x.from === 0 && x.to === last && x.rank === r);
      return d ? `${pct(d.captured)} of ${pct(d.best)} (overlap ${fmt(d.overlap)})` : '—';
    }),
  ]);
  const consecutive = lr.layers.map((l) => [
    l.name,
    ...steps.slice(1).map((t, i) => {
      const d = l.drift.find((x) => x.from === steps[i] && x.to === t && x.rank === Math.max(...lr.ranks));
      return d ? fmt(d.overlap) : '—';
    }),
  ]);
  return [
    `${lr.steps} AdamW steps (backprop, lr ${fmt(lr.lr)}, batch ${lr.batch}, minibatches cycling through the training split); every 2-D trainable weight's minibatch gradient analysed at steps ${steps.join(', ')}. The projector acts on the smaller side (GaLore's std rule: right singular vectors when m ≥ n). Training loss: ${fmt(lr.trainLoss[0]!)} → ${fmt(lr.trainLoss[lr.trainLoss.length - 1]!)}.`,
    '',
    'Stable rank ‖G‖_F²/‖G‖₂² at each snapshot, and the best energy a rank-r projector keeps at step 0:',
    '',
    table(['weight', 'shape', 'side', 'min(m,n)', ...steps.map((t) => `step ${t}`), ...lr.ranks.map((r) => `r=${r} @0`)], stable),
    '',
    `Drift (informs GaLore's T): energy of G_${last} kept by the rank-r projector computed at step 0, of the best possible at step ${last}, and the subspace overlap ‖P₀ᵀP_${last}‖_F²/r (random subspaces: r/min(m,n)):`,
    '',
    table(['weight', ...lr.ranks.map((r) => `r = ${r}`)], drift),
    '',
    `Overlap of consecutive snapshots' rank-${Math.max(...lr.ranks)} subspaces:`,
    '',
    table(['weight', ...steps.slice(1).map((t, i) => `${steps[i]}→${t}`)], consecutive),
  ].join('\n');
}

function plSection(results: CheckResults): string {
  const lr = results.lowRank;
  const rows = lr.points.map((p, i) => [String(p.step), fmt(p.loss, 5), fmt(p.gradientNormSquared), fmt(lr.pl.ratios[i]!.ratio)]);
  return [
    `f and ‖∇f‖² on the fixed check batch at each snapshot of the AdamW run; ratio ‖∇f‖²/(2(f − f*)) with f* = ${lr.fStar} (cross-entropy ≥ 0, so the ratios and μ are lower estimates). PL with constant μ (MeZO Lemma 3) needs the ratio ≥ μ > 0 everywhere.`,
    '',
    table(['step', 'f', '‖∇f‖²', 'ratio'], rows),
    '',
    `μ estimate (smallest ratio): ${fmt(lr.pl.muEstimate)}; median ${fmt(lr.pl.median)}.`,
  ].join('\n');
}

function mean(values: number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((s, x) => s + x, 0) / values.length;
}

/** One line per paper: does its premise hold on this model and task? */
export function verdicts(results: CheckResults): string[] {
  const out: string[] = [];
  const h = results.hessian;
  const relPlus = h.positiveEffectiveRank / results.dim;
  const opNorm = Math.max(Math.abs(h.spectrum.top), Math.abs(h.spectrum.bottom));
  out.push(
    `**MeZO (low effective rank, Assumption 1):** tr(H)/‖H‖_op ≈ ${fmt(h.effectiveRank)} (95% interval ${fmt(h.trace.low / opNorm)} … ${fmt(h.trace.high / opNorm)}); ` +
      `with negative curvature removed, r₊ = tr(H₊)/λ_max ≈ ${fmt(h.positiveEffectiveRank)} for d = ${results.dim.toLocaleString('en-US')} (${fmt(100 * relPlus)}% of d) — ` +
      (!(h.positiveEffectiveRank > 0) ? 'no positive curvature was found, so the premise cannot be read off here.'
        : relPlus < 0.01 ? 'holds strongly: the ZO slowdown the theory predicts is Θ(r), orders of magnitude below Θ(d).'
        : relPlus < 0.1 ? 'holds: r is well below d.' : 'does not hold at this scale: r is a sizeable fraction of d.'),
  );
  const lr = results.lowRank;
  const rMax = Math.max(...lr.ranks);
  const energy = mean(lr.layers.map((l) => l.snapshots[0]?.energyAtRank[rMax] ?? Number.NaN).filter(Number.isFinite));
  const stable = lr.layers.map((l) => `${l.name.replace(/\.weight$/, '')} ${fmt(l.snapshots[0]?.stableRank ?? Number.NaN)}`);
  out.push(
    `**GaLore / LOZO (low-rank gradients):** stable ranks at step 0: ${stable.join(', ')}; a rank-${rMax} projector keeps ${pct(energy)} of the gradient energy on average — ` +
      (energy >= 0.9 ? 'holds.' : energy >= 0.6 ? 'holds partly: most, not all, energy is in a few directions.' : 'does not hold: the energy is spread over many directions.') +
      ` (A minibatch gradient is a sum of one rank-one term per example and position, so with ${lr.batch} examples part of this is a small-batch effect; larger --batch separates the two.)`,
  );
  const last = lr.snapshotSteps[lr.snapshotSteps.length - 1]!;
  const kept = lr.layers.flatMap((l) => l.drift.filter((d) => d.from === 0 && d.to === last && d.rank === rMax).map((d) => (d.best > 0 ? d.captured / d.best : Number.NaN))).filter(Number.isFinite);
  if (kept.length > 0) {
    const k = mean(kept);
    out.push(
      `**GaLore's slowly drifting subspace (T):** after ${last} steps the step-0 rank-${rMax} projector keeps ${pct(k)} of the best rank-${rMax} energy (mean over weights) — ` +
        (k >= 0.8 ? `slow drift: refreshing every T ≥ ${last} steps loses little here.` : `fast drift: at this scale a projector goes stale within ${last} steps, so T should be shorter than GaLore's default 200.`),
    );
  }
  for (const e of results.estimators) {
    const z = zScore(e);
    const bias = biasRatio(e);
    const factor = e.quality.dimensionFactor.mean;
    out.push(
      `**${e.method} (dimension factor):** measured ${fmt(factor)} vs theory ${e.theory === null ? 'n/a' : fmt(e.theory)}` +
        `${z === null ? '' : Math.abs(z) <= 3 ? ` (within ${Math.abs(z).toFixed(1)} SE: the estimator behaves as its analysis assumes)` : ` (${z.toFixed(1)} SE away: the loss is not locally quadratic at ε = ${fmt(e.eps)} along these directions, or the float32 difference is noise-dominated)`}` +
        `; ${fmt(factor / e.gaussianReference)}× Gaussian SPSA's d + 2 over the same d = ${e.dim.toLocaleString('en-US')}. ` +
        `Mean of ${e.quality.draws} estimates: relative error ${fmt(bias.measured)} vs ${fmt(bias.unbiased)} expected if unbiased${bias.measured > 2 * bias.unbiased ? ' — a bias beyond the variance (finite-difference curvature terms).' : '.'}`,
    );
  }
  if (results.estimators.length > 0) {
    out.push(
      '**Reading the dimension factors together:** E‖ĝ‖²/‖g‖² ≈ d + 2 is a property of the estimator, not of the loss — it holds whatever the Hessian, and it is why one ZO estimate is almost orthogonal to g (cosine ≈ 1/√d). MeZO\'s argument is that the *descent* per step is governed by ĝᵀHĝ ≈ tr(H)‖g‖², i.e. by the effective rank above rather than by d, so a huge dimension factor and a usable ZO method are compatible when r ≪ d. Restricting d (AdaZeta\'s adapters) shrinks the factor itself; LOZO\'s low-rank directions keep it at the same order as d + 2.',
    );
  }
  const pl = lr.pl;
  out.push(
    `**PL (MeZO Lemma 3's global rate):** along ${lr.steps} AdamW steps the smallest ‖∇f‖²/(2f) is ${fmt(pl.muEstimate)} — ` +
      (pl.muEstimate > 0 ? 'positive on the points seen, consistent with PL locally; a short trajectory cannot establish it globally.' : 'zero: the gradient vanished before the loss did, PL fails on this trajectory.'),
  );
  return out;
}

export function renderReport(results: CheckResults, plots: readonly { name: string; title: string }[], command: string): string {
  const est = results.estimators.map((e) => e.method).join(', ') || 'none';
  return [
    `# zolo check: ${results.model} on ${results.task}`,
    '',
    '## Setup',
    '',
    table(['', ''], [
      ['model', results.model],
      ['task', results.task],
      ['trainable parameters d', results.dim.toLocaleString('en-US')],
      ['fixed batch', `${results.batchIndices.length} training examples (indices ${results.batchIndices.slice(0, 6).join(', ')}${results.batchIndices.length > 6 ? ', …' : ''})`],
      ['loss at θ₀ / ‖∇f(θ₀)‖', `${fmt(results.startLoss, 5)} / ${fmt(results.gradientNorm)}`],
      ['estimators', est],
      ['backend, seed', `${results.backend}, ${results.seed}`],
      ['wall time', Object.entries(results.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join('; ')],
    ]),
    '',
    `Command: \`${command}\``,
    '',
    '## Estimator quality',
    '',
    estimatorSection(results),
    '',
    '## Smoothness',
    '',
    smoothnessSection(results),
    '',
    '## Hessian effective rank',
    '',
    hessianSection(results),
    '',
    '## Low-rank gradients',
    '',
    lowRankSection(results),
    '',
    '## PL indicator',
    '',
    plSection(results),
    '',
    '## Do the premises hold at this scale?',
    '',
    ...verdicts(results).map((v) => `- ${v}`),
    '',
    '## Figures',
    '',
    ...plots.map((p) => `![${p.title}](${p.name}.svg)`),
    '',
  ].join('\n');
}
