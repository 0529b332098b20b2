/**
 * The forward-pass budget is a hard limit: a step runs only if the passes it will spend (declared
 * up front by the method — q-query estimators, AdaZeta's growing q and ZO-SGD-Cons's extra points
 * make it vary) fit in what is left. A step that does not fit is skipped, not cut short: a ZO step
 * with fewer queries or a Cons step without its candidate points would be a different method.
 */

/** Why the run stopped before `step`: it needed `passesNeeded`, only `passesLeft` remained. */
export interface BudgetStop {
  step: number;
  passesNeeded: number;
  passesLeft: number;
}

/** null when step `step` (spending `passesNeeded`) fits in `budget` after `spent`; else why not. */
export function checkForwardBudget(budget: number, spent: number, step: number, passesNeeded: number): BudgetStop | null {
  const passesLeft = budget - spent;
  return passesNeeded <= passesLeft ? null : { step, passesNeeded, passesLeft };
}
