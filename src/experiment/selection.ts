/**
 * Which evaluated point a run reports, chosen on validation only.
 *
 * The runner evaluates validation at step 0, every evalInterval steps and at the end. Under
 * `val-accuracy` a point is a new best when its validation accuracy is higher than the best so far,
 * or equal with a lower validation loss (small validation sets tie often; the loss breaks the tie
 * towards the more confident model). Under `val-loss` a new best has a strictly lower validation
 * loss. Under `last` only the final point is a candidate. The test split is evaluated exactly at the
 * new-best points, so its numbers can never influence which point is chosen.
 *
 * `firstReached[target]` is the first evaluated point whose validation accuracy is ≥ target: the
 * cost (steps, forward passes, seconds) of reaching an accuracy, which compares methods whose final
 * accuracies saturate.
 */
import type { SelectBy } from './config.ts';
import type { EvalResult } from './workload.ts';

/** Where a run was when a point was evaluated. */
export interface EvalPoint {
  step: number;
  forwardPasses: number;
  wallSeconds: number;
}

export interface SelectedPoint extends EvalPoint {
  by: SelectBy;
  validation: EvalResult;
  /** the test split at this point; null when the run was not evaluated on test here. */
  test: EvalResult | null;
}

/** Keyed by the target written as a number (`String(0.85)` = "0.85"). */
export type FirstReached = Record<string, EvalPoint | null>;

/** Whether `candidate` replaces `best` as the selected point; `isFinal` marks the run's last evaluation. */
export function isNewBest(by: SelectBy, candidate: EvalResult, best: EvalResult | null, isFinal: boolean): boolean {
  if (by === 'last') return isFinal;
  if (best === null) return true;
  if (by === 'val-loss') return candidate.loss < best.loss;
  return candidate.accuracy > best.accuracy || (candidate.accuracy === best.accuracy && candidate.loss < best.loss);
}

export function emptyFirstReached(targets: readonly number[]): FirstReached {
  return Object.fromEntries(targets.map((target) => [String(target), null]));
}

/** Records `point` for every target its validation accuracy reaches for the first time. */
export function updateFirstReached(firstReached: FirstReached, targets: readonly number[], accuracy: number, point: EvalPoint): FirstReached {
  const next = { ...firstReached };
  for (const target of targets) if (next[String(target)] == null && accuracy >= target) next[String(target)] = point;
  return next;
}
