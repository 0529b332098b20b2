/**
 * Summary fields the reports read beyond the counters: which evaluated point a run reports
 * (`selected`, with the test split scored there), when it first reached each validation-accuracy
 * target (`firstReached`), and the class counts of the evaluated splits (`classCounts`, from which
 * the class prior follows when a suite has no majority run). Older summaries lack them; the
 * reports then fall back to the final evaluation and the metrics curve.
 */
import type { DataSplit, EvalResult, Workload } from './workload.ts';

/** Where a run was when a point was evaluated. */
export interface ReportedPoint {
  step: number;
  forwardPasses: number;
  wallSeconds: number;
}

export interface SelectedResult extends ReportedPoint {
  /** the rule that chose the point (validation only; e.g. "val-accuracy", "last"). */
  by: string;
  validation: EvalResult;
  /** the test split at this point; null when it was not evaluated there. */
  test: EvalResult | null;
}

/** Keyed by the target as written (`String(0.85)` = "0.85"). */
export type FirstReachedMap = Record<string, ReportedPoint | null>;

/** Examples per class of the evaluated part of each split (train: all of it; validation/test: the first evalSize). */
export type ClassCounts = Record<DataSplit, number[]>;

function countClasses(labels: Int32Array, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (const label of labels) counts[label]! += 1;
  return counts;
}

/** Class counts as the runner evaluates them; null for tasks without labels. */
export function classCountsOf(workload: Workload, evalSize: number): ClassCounts | null {
  if (!workload.labels) return null;
  const take = (labels: Int32Array): Int32Array => (evalSize === 0 ? labels : labels.subarray(0, evalSize));
  const splits = { train: workload.labels('train'), validation: take(workload.labels('validation')), test: take(workload.labels('test')) };
  let classes = 2;
  for (const labels of Object.values(splits)) for (const label of labels) classes = Math.max(classes, label + 1);
  return { train: countClasses(splits.train, classes), validation: countClasses(splits.validation, classes), test: countClasses(splits.test, classes) };
}
