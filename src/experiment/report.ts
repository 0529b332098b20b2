/**
 * The Markdown report of a suite: one row per group (entry × grid point), mean ± std over the seeds
 * that completed (sample std, n − 1; "± 0" for one seed). Diverged runs are listed, counted in the
 * "runs" column and excluded from every average, so one NaN cannot poison a row.
 */
import { MEMORY_CATEGORIES, type MemoryCategory } from '../tensor/ledger.ts';
import { forwardPassesToTarget, type RunResultEntry, type SuiteResults } from './results.ts';
import { mean, median, std } from './stats.ts';

export interface GroupRow {
  group: string;
  label: string;
  method: string;
  family: string;
  completed: RunResultEntry[];
  diverged: RunResultEntry[];
  accuracy: { mean: number; std: number } | null;
  evalLoss: { mean: number; std: number } | null;
  /** forward passes to reach the target accuracy, over the seeds that reached it. */
  toTarget: { mean: number; std: number; reached: number } | null;
  forwardPasses: number | null;
  stepMs: { mean: number; std: number } | null;
  /** mean peak bytes per category and total over completed seeds. */
  memory: Record<MemoryCategory | 'total', number> | null;
  trainableParams: number | null;
}

function meanStd(values: number[]): { mean: number; std: number } | null {
  const m = mean(values);
  return m === null ? null : { mean: m, std: std(values)! };
}

export function groupRows(results: SuiteResults): GroupRow[] {
  const groups = new Map<string, RunResultEntry[]>();
  for (const run of results.runs) groups.set(run.group, [...(groups.get(run.group) ?? []), run]);
  const target = results.suite.targetAccuracy;
  return [...groups.entries()].map(([group, runs]) => {
    const completed = runs.filter((run) => run.summary.status === 'completed');
    const diverged = runs.filter((run) => run.summary.status !== 'completed');
    const evaluated = completed.filter((run) => run.summary.eval !== null);
    const reached = target === null ? [] : completed.map((run) => forwardPassesToTarget(run.curve, target)).filter((n): n is number => n !== null);
    const stepTimes = completed.map((run) => run.summary.timing.stepMsMedian).filter((t): t is number => t !== null);
    let memory: GroupRow['memory'] = null;
    if (completed.length > 0) {
      memory = { total: mean(completed.map((run) => run.summary.memory.peakBytes.total))! } as GroupRow['memory'];
      for (const category of MEMORY_CATEGORIES) memory![category] = mean(completed.map((run) => run.summary.memory.peakBytes[category]))!;
    }
    const first = runs[0]!;
    return {
      group,
      label: first.label,
      method: first.summary.method,
      family: first.summary.family,
      completed,
      diverged,
      accuracy: meanStd(evaluated.map((run) => run.summary.eval!.accuracy)),
      evalLoss: meanStd(evaluated.map((run) => run.summary.eval!.loss)),
      toTarget: reached.length === 0 ? null : { ...meanStd(reached)!, reached: reached.length },
      forwardPasses: median(completed.map((run) => run.summary.forwardPasses)),
      stepMs: meanStd(stepTimes),
      memory,
      trainableParams: completed[0]?.summary.trainableParams ?? first.summary.trainableParams,
    };
  });
}

const percent = (v: { mean: number; std: number } | null): string => (v ? `${(100 * v.mean).toFixed(1)} ± ${(100 * v.std).toFixed(1)}` : '—');
/** 3 significant digits, switching to exponent notation outside [1e-3, 1e5). */
export function formatNumber(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e5)) return value.toExponential(2);
  return Number(value.toPrecision(3)).toString();
}

const meanPlusMinus = (v: { mean: number; std: number } | null): string => (v ? `${formatNumber(v.mean)} ± ${formatNumber(v.std)}` : '—');

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

function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

/** The head-to-head table alone (also what `zolo demo` prints). */
export function headToHeadTable(results: SuiteResults): string {
  const target = results.suite.targetAccuracy;
  const header = [
    'method',
    'runs',
    'val accuracy % (mean ± std)',
    'val loss',
    target === null ? 'fwd passes to target' : `fwd passes to ${(100 * target).toFixed(0)}%`,
    'fwd passes (median)',
    'step ms',
    'peak memory',
    'trainable params',
  ];
  const rows = groupRows(results).map((row) => [
    row.group,
    `${row.completed.length}/${row.completed.length + row.diverged.length}${row.diverged.length > 0 ? ` (${row.diverged.length} diverged)` : ''}`,
    percent(row.accuracy),
    meanPlusMinus(row.evalLoss),
    row.toTarget ? `${Math.round(row.toTarget.mean)} ± ${Math.round(row.toTarget.std)} (${row.toTarget.reached}/${row.completed.length})` : target === null ? 'n/a' : 'not reached',
    row.forwardPasses === null ? '—' : String(row.forwardPasses),
    meanPlusMinus(row.stepMs),
    row.memory ? formatBytes(row.memory.total) : '—',
    row.trainableParams === null ? '—' : formatCount(row.trainableParams),
  ]);
  return table(header, rows);
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
    `${results.runs.length} runs; mean ± sample std over seeds of the completed runs; diverged runs are excluded from the averages.`,
    'Accuracy and loss are on the validation split at the end of each run. Step time is the median per run, then mean ± std over seeds. ',
    'Peak memory is the MemoryLedger\'s peak per category (the total is the peak of the simultaneous sum, so it can be below the sum of the category peaks).',
    '',
    '## Head to head',
    '',
    headToHeadTable(results),
    '',
    '## Peak memory by category (mean over seeds)',
    '',
    memoryTable(results),
    '',
  ];
  if (diverged.length > 0) {
    parts.push('## Diverged runs', '', ...diverged.map((run) => `- ${run.group}, seed ${run.seed}: non-finite loss at step ${run.summary.divergedAtStep} (\`runs/${run.id}\`)`), '');
  }
  if (plots.length > 0) {
    parts.push('## Plots', '', ...plots.flatMap((plot) => [`### ${plot.title}`, '', `![${plot.title}](${plot.path})`, '']));
  }
  parts.push('## Runs', '', table(['run', 'seed', 'status', 'accuracy %', 'steps', 'fwd passes', 'stopped by'], results.runs.map((run) => [
    `\`${run.id}\``,
    String(run.seed),
    run.summary.status === 'completed' ? 'completed' : `diverged at ${run.summary.divergedAtStep}`,
    run.summary.eval ? (100 * run.summary.eval.accuracy).toFixed(1) : '—',
    String(run.summary.steps),
    String(run.summary.forwardPasses),
    run.summary.stoppedBy,
  ])), '');
  return parts.join('\n');
}
