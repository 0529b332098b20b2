/**
 * The class prior of a suite and the one-word verdict every report row carries.
 *
 * Class prior: the accuracy of always predicting the training split's majority class — a `majority`
 * run's result when the suite has one, else the share of that class in the evaluated split from any
 * run's `summary.classCounts`.
 *
 * Verdict: "learned" when the row's accuracy is above the prior p by more than two binomial standard
 * errors of the scored split's size n,
 *
 *   accuracy > p + 2·√(p(1 − p) / n),
 *
 * else "at chance"; "diverged" when every seed diverged. Why this bound: a classifier whose output
 * carries no information about the label (independent of it given nothing) is right on each example
 * with probability Σ_c q_c π_c ≤ max_c π_c = p, so its number of correct answers on n examples is at
 * most Binomial(n, p) in distribution; by the normal approximation it exceeds n·p by two standard
 * deviations with probability ≈ 2.3 %. The seeds of one row are scored on the same split, so their
 * mean does not shrink that sampling error; the bound is applied to the mean unchanged (conservative).
 * On the e-mail test split (605 e-mails, p = 0.686) the bar is p + 3.8 points.
 */
import type { RunResultEntry, SuiteResults } from './results.ts';

export type Verdict = 'learned' | 'at chance' | 'diverged';

/** The prior on one split: its accuracy and the number of examples it was measured on. */
export interface SplitPrior {
  accuracy: number;
  size: number;
}

export interface ClassPrior {
  /** where it came from: a majority run, or the class counts of the evaluated splits */
  source: 'majority run' | 'class counts';
  validation: SplitPrior | null;
  test: SplitPrior | null;
}

/** p + 2·√(p(1 − p)/n): the accuracy a row must exceed to count as "learned". */
export function learnedThreshold(prior: SplitPrior): number {
  return prior.accuracy + 2 * Math.sqrt((prior.accuracy * (1 - prior.accuracy)) / prior.size);
}

export function verdictOf(accuracy: number, prior: SplitPrior): Exclude<Verdict, 'diverged'> {
  return accuracy > learnedThreshold(prior) ? 'learned' : 'at chance';
}

const total = (counts: readonly number[]): number => counts.reduce((a, b) => a + b, 0);

function fromCounts(run: RunResultEntry): ClassPrior | null {
  const counts = run.summary.classCounts;
  if (!counts) return null;
  let majority = 0;
  counts.train.forEach((count, c) => {
    if (count > counts.train[majority]!) majority = c;
  });
  const split = (values: readonly number[]): SplitPrior | null => (total(values) === 0 ? null : { accuracy: (values[majority] ?? 0) / total(values), size: total(values) });
  return { source: 'class counts', validation: split(counts.validation), test: split(counts.test) };
}

/** The suite's class prior, or null when no run says anything about the classes. */
export function classPriorOf(results: SuiteResults): ClassPrior | null {
  const majority = results.runs.find((run) => run.summary.method === 'majority' && run.summary.status === 'completed' && run.summary.eval !== null);
  const counted = results.runs.map(fromCounts).find((prior) => prior !== null) ?? null;
  if (!majority) return counted;
  // the majority run's own numbers; the split sizes come from the class counts (every spam run records them)
  const own = fromCounts(majority) ?? counted;
  const test = majority.summary.selected?.test ?? null;
  return {
    source: 'majority run',
    validation: own?.validation ? { accuracy: majority.summary.eval!.accuracy, size: own.validation.size } : null,
    test: test !== null && own?.test ? { accuracy: test.accuracy, size: own.test.size } : null,
  };
}
