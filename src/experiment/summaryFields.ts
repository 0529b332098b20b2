/**
 * The summary's class counts of the evaluated splits (`classCounts`), from which the reports take the
 * class prior when a suite has no majority run. Older summaries lack them.
 */
import type { DataSplit, Workload } from './workload.ts';

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
