/**
 * The Markdown report of a suite: one row per group (entry × grid point) with mean ± sample std
 * (n − 1) over the seeds that completed (a single seed prints its value alone). Diverged runs are
 * listed, counted in the "runs" column ("diverged in k of n seeds") and excluded from every average,
 * so one NaN cannot poison a row.
 *
 * Every head-to-head table opens with the class prior (a `majority` run, else the class counts the
 * runs recorded) and the linear probe when the suite ran one, and gives each row a verdict against
 * the prior (verdict.ts). Accuracy is the test split at the reported point (`summary.selected`) where
 * the runs scored test, else validation; "to 85 %" is the cost of first reaching that validation
 * accuracy (`summary.firstReached`, else the first evaluation in the curve at or above it).
 */
import { MEMORY_CATEGORIES, type MemoryCategory } from '../tensor/ledger.ts';
import { type RunResultEntry, type SuiteResults } from './results.ts';
import { mean, median, std } from './stats.ts';
import type { EvalPoint } from './selection.ts';
import { classPriorOf, learnedThreshold, verdictOf, type ClassPrior, type Verdict } from './verdict.ts';

/** Validation accuracies whose first crossing every table reports (the runner's default targets). */
export const REPORTED_TARGETS = [0.85, 0.9] as const;

export interface MeanStd {
  mean: number;
  std: number;
  /** how many values */
  n: number;
}

export interface TargetCost {
  forwardPasses: MeanStd;
  wallSeconds: MeanStd;
  /** seeds that reached the target, of the completed ones */
  reached: number;
}

export interface GroupRow {
  group: string;
  label: string;
  method: string;
  family: string;
  completed: RunResultEntry[];
  diverged: RunResultEntry[];
  /** validation accuracy at the reported point */
  accuracy: MeanStd | null;
  /** test accuracy at the reported point, over the completed seeds that scored test */
  testAccuracy: MeanStd | null;
  evalLoss: MeanStd | null;
  /** per target (keyed as String(target)): the cost of first reaching it, null when no seed did */
  toTarget: Record<string, TargetCost | null>;
  forwardPasses: number | null;
  stepMs: MeanStd | null;
  /** mean peak bytes per category and total over completed seeds. */
  memory: Record<MemoryCategory | 'total', number> | null;
  trainableParams: number | null;
  /** null when the suite says nothing about the class prior */
  verdict: Verdict | null;
}

function meanStd(values: number[]): MeanStd | null {
  const m = mean(values);
  return m === null ? null : { mean: m, std: std(values)!, n: values.length };
}

/** The targets a suite's tables report: the default ones plus the suite's own targetAccuracy. */
export function reportedTargets(results: SuiteResults): number[] {
  const extra = results.suite.targetAccuracy;
  return [...new Set([...REPORTED_TARGETS, ...(extra === null ? [] : [extra])])].sort((a, b) => a - b);
}

/** Validation accuracy and loss at the point a run reports: `selected` when it has one, else its final evaluation. */
function reportedValidation(run: RunResultEntry) {
  return run.summary.selected?.validation ?? run.summary.eval;
}

/** Where a run first reached `target` on validation: its summary's record, else the first evaluation in its curve at or above it. */
export function firstReachedOf(run: RunResultEntry, target: number): EvalPoint | null {
  const recorded = run.summary.firstReached?.[String(target)];
  if (recorded !== undefined) return recorded;
  const line = run.curve.find((point) => point.eval && point.eval.accuracy >= target);
  return line ? { step: line.step, forwardPasses: line.forwardPasses, wallSeconds: line.wallMs / 1000 } : null;
}

function rowVerdict(row: Pick<GroupRow, 'completed' | 'diverged' | 'accuracy' | 'testAccuracy'>, prior: ClassPrior | null): Verdict | null {
  if (row.completed.length === 0) return row.diverged.length > 0 ? 'diverged' : null;
  if (row.testAccuracy && prior?.test) return verdictOf(row.testAccuracy.mean, prior.test);
  if (row.accuracy && prior?.validation) return verdictOf(row.accuracy.mean, prior.validation);
  return null;
}

/** Baselines first (class prior, then linear probe), then the methods in suite order. */
function rank(method: string): number {
  return method === 'majority' ? 0 : method === 'linear-probe' ? 1 : 2;
}

export function groupRows(results: SuiteResults): GroupRow[] {
  const groups = new Map<string, RunResultEntry[]>();
  for (const run of results.runs) groups.set(run.group, [...(groups.get(run.group) ?? []), run]);
  const prior = classPriorOf(results);
  const targets = reportedTargets(results);
  const rows = [...groups.entries()].map(([group, runs]): GroupRow => {
    const completed = runs.filter((run) => run.summary.status === 'completed');
    const diverged = runs.filter((run) => run.summary.status !== 'completed');
    const validation = completed.map(reportedValidation).filter((result) => result !== null && result !== undefined);
    const tests = completed.map((run) => run.summary.selected?.test).filter((result) => result !== null && result !== undefined);
    const toTarget: GroupRow['toTarget'] = {};
    for (const target of targets) {
      const points = completed.map((run) => firstReachedOf(run, target)).filter((point) => point !== null);
      toTarget[String(target)] = points.length === 0 ? null : {
        forwardPasses: meanStd(points.map((point) => point.forwardPasses))!,
        wallSeconds: meanStd(points.map((point) => point.wallSeconds))!,
        reached: points.length,
      };
    }
    const stepTimes = completed.map((run) => run.summary.timing.stepMsMedian).filter((t): t is number => t !== null);
    let memory: GroupRow['memory'] = null;
    if (completed.length > 0) {
      memory = { total: mean(completed.map((run) => run.summary.memory.peakBytes.total))! } as GroupRow['memory'];
      for (const category of MEMORY_CATEGORIES) memory![category] = mean(completed.map((run) => run.summary.memory.peakBytes[category]))!;
    }
    const first = runs[0]!;
    const row = {
      group,
      label: first.label,
      method: first.summary.method,
      family: first.summary.family,
      completed,
      diverged,
      accuracy: meanStd(validation.map((result) => result.accuracy)),
      testAccuracy: meanStd(tests.map((result) => result.accuracy)),
      evalLoss: meanStd(validation.map((result) => result.loss)),
      toTarget,
      forwardPasses: median(completed.map((run) => run.summary.forwardPasses)),
      stepMs: meanStd(stepTimes),
      memory,
      trainableParams: completed[0]?.summary.trainableParams ?? first.summary.trainableParams,
    };
    return { ...row, verdict: rowVerdict(row, prior) };
  });
  return rows.map((row, index) => ({ row, index })).sort((a, b) => rank(a.row.method) - rank(b.row.method) || a.index - b.index).map(({ row }) => row);
}

/** A percentage, with "± std" only when there is more than one value to spread. */
export function formatPercent(value: MeanStd | null): string {
  if (!value) return '—';
  return value.n > 1 ? `${(100 * value.mean).toFixed(1)} ± ${(100 * value.std).toFixed(1)}` : (100 * value.mean).toFixed(1);
}

/** 3 significant digits, switching to exponent notation outside [1e-3, 1e5). */
export function formatNumber(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e5)) return value.toExponential(2);
  return Number(value.toPrecision(3)).toString();
}

const meanPlusMinus = (v: MeanStd | null): string => (v ? (v.n > 1 ? `${formatNumber(v.mean)} ± ${formatNumber(v.std)}` : formatNumber(v.mean)) : '—');

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(2)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${Math.round(bytes)} B`;
}

export function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(n);
}

function formatSeconds(seconds: number): string {
  return seconds >= 100 ? `${Math.round(seconds)} s` : `${Number(seconds.toPrecision(2))} s`;
}

function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

function runsCell(row: GroupRow): string {
  const n = row.completed.length + row.diverged.length;
  if (row.diverged.length === 0) return String(n);
  const diverged = `diverged in ${row.diverged.length} of ${n} seeds`;
  return row.completed.length === 0 ? diverged : `${row.completed.length} (${diverged})`;
}

function targetCell(row: GroupRow, target: number): string {
  if (row.completed.length === 0) return '—';
  const cost = row.toTarget[String(target)];
  if (!cost) return 'not reached';
  const partial = cost.reached < row.completed.length ? ` (${cost.reached}/${row.completed.length} seeds)` : '';
  return `${formatCount(Math.round(cost.forwardPasses.mean))} fwd · ${formatSeconds(cost.wallSeconds.mean)}${partial}`;
}

const targetTitle = (target: number): string => `to ${Number((100 * target).toFixed(1))} % val`;

/**
 * The head-to-head table alone (also what `zolo suite` and `zolo demo` print). When no `majority`
 * run is in the suite, a first row gives the class prior computed from the recorded class counts.
 */
export function headToHeadTable(results: SuiteResults): string {
  const targets = reportedTargets(results);
  const rows = groupRows(results);
  const prior = classPriorOf(results);
  const header = ['method', 'verdict', 'seeds', 'test acc %', 'val acc %', ...targets.map(targetTitle), 'step ms', 'peak memory', 'trainable params'];
  const lines: string[][] = [];
  if (prior && prior.source === 'class counts') {
    const cell = (p: ClassPrior['test']): string => (p ? (100 * p.accuracy).toFixed(1) : '—');
    lines.push(['class prior (majority class, from the labels)', 'prior', '—', cell(prior.test), cell(prior.validation), ...targets.map(() => '—'), '—', '—', '—']);
  }
  if (!rows.some((row) => row.method === 'linear-probe')) lines.push(['linear probe', 'not run', '—', '—', '—', ...targets.map(() => '—'), '—', '—', '—']);
  for (const row of rows) {
    lines.push([
      row.group,
      row.method === 'majority' ? 'prior' : (row.verdict ?? '—'),
      runsCell(row),
      formatPercent(row.testAccuracy),
      formatPercent(row.accuracy),
      ...targets.map((target) => targetCell(row, target)),
      meanPlusMinus(row.stepMs),
      row.memory ? formatBytes(row.memory.total) : '—',
      row.trainableParams === null ? '—' : formatCount(row.trainableParams),
    ]);
  }
  return table(header, lines);
}

/** One sentence: where the prior came from and the bar a row must clear to count as "learned". */
export function verdictRule(results: SuiteResults): string {
  const prior = classPriorOf(results);
  const split = prior?.test ? { name: 'test', value: prior.test } : prior?.validation ? { name: 'validation', value: prior.validation } : null;
  if (!prior || !split) return 'No run recorded its class counts and the suite has no `majority` run, so there is no class prior and no verdict.';
  const p = split.value;
  return (
    `Class prior ${(100 * p.accuracy).toFixed(1)} % on ${split.name} (${p.size} examples; from ${prior.source === 'majority run' ? 'the majority run' : 'the recorded class counts'}). ` +
    `Verdict "learned": mean accuracy above the prior by more than 2 binomial standard errors, ${(100 * p.accuracy).toFixed(1)} + 2·√(p(1−p)/n) = ${(100 * learnedThreshold(p)).toFixed(1)} %; "at chance" otherwise; "diverged" when every seed diverged.`
  );
}

export function memoryTable(results: SuiteResults): string {
  const rows = groupRows(results)
    .filter((row) => row.memory !== null)
    .map((row) => [row.group, ...MEMORY_CATEGORIES.map((c) => formatBytes(row.memory![c])), formatBytes(row.memory!.total)]);
  return table(['method', ...MEMORY_CATEGORIES, 'total (peak)'], rows);
}

export function renderReport(results: SuiteResults, plots: readonly { title: string; path: string }[]): string {
  const rows = groupRows(results);
  const diverged = rows.flatMap((row) => row.diverged);
  const first = results.runs[0]?.config;
  const parts = [
    `# Suite: ${results.suite.name}`,
    '',
    results.suite.description,
    '',
    first ? `Task \`${first.task}\`, model \`${first.model}\`, backend \`${first.backend}\`, batch ${first.batchSize}. ` : '',
    `${results.runs.length} runs; mean ± sample std over the seeds that completed (one seed: its value alone); diverged runs are excluded from the averages and counted in "seeds".`,
    'Test and validation accuracy are taken at the point each run reports (`selected`: chosen on validation only; the final evaluation for runs without one). ',
    '"to X % val" is the training forward passes and wall time until the first evaluation with validation accuracy ≥ X (mean over the seeds that got there). ',
    'Step time is the median per run, then mean ± std over seeds. ',
    'Peak memory is the MemoryLedger\'s peak per category (the total is the peak of the simultaneous sum, so it can be below the sum of the category peaks).',
    '',
    '## Head to head',
    '',
    verdictRule(results),
    '',
    headToHeadTable(results),
    '',
    '## Peak memory by category (mean over seeds)',
    '',
    memoryTable(results),
    '',
  ];
  if (diverged.length > 0) {
    parts.push('## Diverged runs', '', ...diverged.map((run) => `- ${run.group}, seed ${run.seed}: diverged at step ${run.summary.divergedAtStep} (\`runs/${run.id}\`)`), '');
  }
  if (plots.length > 0) {
    parts.push('## Plots', '', ...plots.flatMap((plot) => [`### ${plot.title}`, '', `![${plot.title}](${plot.path})`, '']));
  }
  const percentOf = (result: { accuracy: number } | null | undefined): string => (result ? (100 * result.accuracy).toFixed(1) : '—');
  parts.push('## Runs', '', table(['run', 'seed', 'status', 'test acc %', 'val acc %', 'reported step', 'steps', 'fwd passes', 'stopped by'], results.runs.map((run) => [
    `\`${run.id}\``,
    String(run.seed),
    run.summary.status === 'completed' ? 'completed' : `diverged at ${run.summary.divergedAtStep}`,
    percentOf(run.summary.selected?.test),
    percentOf(run.summary.selected?.validation ?? run.summary.eval),
    run.summary.selected ? String(run.summary.selected.step) : '—',
    String(run.summary.steps),
    String(run.summary.forwardPasses),
    run.summary.stoppedBy,
  ])), '');
  return parts.join('\n');
}
