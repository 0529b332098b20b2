/**
 * A suite run as a queue job, and its result. The job carries one planned run's config — without
 * `out`, which the worker chooses — and the worker validates it exactly as a local run is validated
 * (run-config schema, registered names, method and task options) plus what only a remote job needs:
 * a size bound, a known envelope, no output path, and plug-ins limited to those the worker was
 * started with. Anything else is rejected with JobRejected naming the field, and never run.
 */
import { z } from 'zod';
import { checkNames, parseRunConfig, type RunConfig } from '../experiment/config.ts';
import { loadPlugins } from '../experiment/plugins.ts';
import type { RunSummary } from '../experiment/runner.ts';
import { knownNames } from '../experiment/suite.ts';
import type { PlannedRun } from '../experiment/suiteConfig.ts';
import { ZoloError, describeValue } from '../errors.ts';
import { checkPluginsAllowed } from './allowedPlugins.ts';
import { JobRejected } from './errors.ts';

export const SUITE_JOB_FORMAT = 'zolo-suite-job/1';
export const SUITE_RESULT_FORMAT = 'zolo-suite-result/1';
/** The largest job a worker reads; a suite run's config is a few hundred bytes. */
export const MAX_JOB_BYTES = 64 * 1024;

/** A run id is a suite folder name (suiteConfig.ts `slug` plus the seed). */
const RUN_ID = /^[a-z0-9.=-]{1,200}$/;

const jobSchema = z.strictObject({
  format: z.literal(SUITE_JOB_FORMAT),
  suite: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/),
  runId: z.string().regex(RUN_ID),
  label: z.string().max(1_000),
  config: z.record(z.string(), z.unknown()),
});

export type SuiteJob = z.infer<typeof jobSchema>;

export interface SuiteJobResult {
  format: typeof SUITE_RESULT_FORMAT;
  runId: string;
  /** the worker that ran it (BullMQ worker name). */
  worker: string;
  summary: RunSummary;
  /** the run's metrics.jsonl, verbatim. */
  metrics: string;
}

export function suiteJob(suite: string, run: PlannedRun): SuiteJob {
  const { out: _out, force: _force, ...config } = run.config;
  return { format: SUITE_JOB_FORMAT, suite, runId: run.id, label: `${run.group} s${run.seed}`, config };
}

/** The job's run config, fully validated; JobRejected otherwise. Imports the (allowed) plug-ins it names. */
export async function acceptSuiteJob(data: unknown, allowedPlugins: readonly string[]): Promise<{ job: SuiteJob; config: RunConfig }> {
  const size = Buffer.byteLength(JSON.stringify(data) ?? '');
  if (size > MAX_JOB_BYTES) throw new JobRejected(`job is ${size} bytes; a suite job is at most ${MAX_JOB_BYTES}`);
  const parsed = jobSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new JobRejected(`job is not a ${SUITE_JOB_FORMAT} job: field "${issue.path.join('.') || '(root)'}": ${issue.message}`);
  }
  const job = parsed.data;
  const where = `job ${job.runId}`;
  for (const key of ['out', 'force'] as const) {
    if (key in job.config) throw new JobRejected(`${where}: config.${key} is chosen by the worker, got ${describeValue(job.config[key])}`);
  }
  try {
    const config = parseRunConfig(job.config, 'config');
    checkPluginsAllowed(config.plugins, allowedPlugins, 'config');
    await loadPlugins(config.plugins, 'config.plugins');
    checkNames(config, knownNames(), 'config');
    return { job, config };
  } catch (error) {
    if (!(error instanceof ZoloError)) throw error;
    throw new JobRejected(`${where}: ${error.message}`);
  }
}

/** A worker's result as the suite reads it back; anything else is an error naming the run. */
export function readSuiteJobResult(value: unknown, runId: string): SuiteJobResult {
  const result = value as Partial<SuiteJobResult> | null;
  if (result?.format !== SUITE_RESULT_FORMAT || result.runId !== runId || typeof result.metrics !== 'string' || typeof result.summary !== 'object' || result.summary === null) {
    throw new JobRejected(`the result of job ${runId} is not a ${SUITE_RESULT_FORMAT} result for that run`);
  }
  return result as SuiteJobResult;
}
