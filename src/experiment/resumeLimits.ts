/**
 * The limits of a run that `--resume` may raise (steps, forward-pass and wall-time budgets), and
 * whether a finished run could go on under a config's limits. resume.ts decides what a resume may
 * change; the runner uses `finishedSummary` to make resuming a finished run a no-op.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from './config.ts';

/** One limit a resume raised: its config path and the old and new values (null = no limit). */
export interface ResumeExtension {
  key: 'steps' | 'budget.forwardPasses' | 'budget.wallSeconds';
  from: number | null;
  to: number | null;
}

/** What a summary needs to say whether the run could go on. */
export interface FinishedRun {
  status: string;
  family: string;
  steps: number;
  forwardPasses: number;
  stoppedBy: string;
  timing: { wallSeconds: number };
}

export const LIMITS: readonly ResumeExtension['key'][] = ['steps', 'budget.forwardPasses', 'budget.wallSeconds'];

/**
 * The finished run's summary when `config`'s limits let it go no further (resuming is then a
 * no-op), else null. A diverged run never goes further.
 */
export function finishedSummary<Summary extends FinishedRun>(dir: string, summaryFile: string, config: RunConfig): Summary | null {
  const path = join(dir, summaryFile);
  if (!existsSync(path)) return null;
  const summary = JSON.parse(readFileSync(path, 'utf8')) as Summary;
  // a diverged run cannot go on; a zero-shot run has no steps to add
  if (summary.status !== 'completed' || summary.family === 'zero-shot') return summary;
  const more =
    summary.steps < config.steps &&
    (config.budget.forwardPasses === null || summary.forwardPasses < config.budget.forwardPasses) &&
    (config.budget.wallSeconds === null || summary.timing.wallSeconds < config.budget.wallSeconds);
  return more ? null : summary;
}
