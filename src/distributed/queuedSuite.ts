/**
 * `zolo suite FILE --queue URL`: the suite's runs as BullMQ jobs, run by `zolo worker`s anywhere
 * that have the repository and data, collected back into the same suite folder a local run writes.
 *
 * The suite folder, its plan and its outputs are those of a local suite (suite.ts): each job is a
 * planned run's config; when a worker finishes it, the job's result — the run's summary.json and
 * metrics.jsonl — is written to DIR/runs/<id>/, and results.json, report.md and the plots are made
 * from those folders at the end. So the numbers equal a local run's for the same seeds, backend
 * and thread count; only timings differ.
 *
 * Jobs are keyed by run id, so a run is never queued twice and its result is written once, however
 * often the suite is resumed or a job is retried. A job that fails is retried up to `attempts` times;
 * a worker that dies mid-run loses its job's lock, and the job goes back to the queue after the
 * workers' stall timeout (suiteWorker.ts). `--resume` skips finished runs, collects what workers
 * finished while no suite process was watching, and queues failed runs again.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Job, Queue, QueueEvents } from 'bullmq';
import { writeFileAtomic } from '../experiment/checkpoint.ts';
import { describeOutcome, FILES, savedConfig } from '../experiment/runner.ts';
import { collectResults, isFinished, openSuite, writeSuiteOutputs, type SuiteOptions, type SuiteOutcome } from '../experiment/suite.ts';
import type { PlannedRun, SuiteFile } from '../experiment/suiteConfig.ts';
import { ConfigError, describeValue } from '../errors.ts';
import { boardDisplay, QueueBoard, type BoardDisplay } from './queueBoard.ts';
import { checkQueueName, OPEN_SUITES, suiteQueueName } from './queueNames.ts';
import { bullmqConnection, openRedis } from './redisConnection.ts';
import type { RedisTarget } from './redisTarget.ts';
import { readSuiteJobResult, suiteJob } from './suiteJob.ts';

/** Tries per job (the first run plus retries) unless --attempts says otherwise. */
export const DEFAULT_ATTEMPTS = 3;
const RETRY_DELAY_MS = 1_000;
/** Every job's state is looked at this often, whatever events arrived (events can be missed while reconnecting). */
const SWEEP_MS = 5_000;

export interface QueuedSuiteOptions extends Omit<SuiteOptions, 'progress'> {
  target: RedisTarget;
  /** default: suiteQueueName(suite folder). */
  queueName?: string;
  attempts?: number;
  display?: BoardDisplay;
}

export interface QueuedSuiteOutcome extends SuiteOutcome {
  queue: string;
  /** runs that failed on every attempt, with the last error. */
  failed: { id: string; reason: string }[];
}

export function checkAttempts(attempts: number): number {
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100) throw new ConfigError(`--attempts must be an integer in [1, 100], got ${describeValue(attempts)}`);
  return attempts;
}

/** Writes a finished job's files into the run's suite folder; summary.json last, as it marks the run finished. */
function writeRunFiles(run: PlannedRun, summary: unknown, metrics: string): void {
  const dir = run.config.out!;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, FILES.config), savedConfig(run.config, dir));
  writeFileSync(join(dir, FILES.metrics), metrics);
  writeFileAtomic(join(dir, FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
}

export async function runQueuedSuite(suiteInput: SuiteFile, options: QueuedSuiteOptions): Promise<QueuedSuiteOutcome> {
  const attempts = checkAttempts(options.attempts ?? DEFAULT_ATTEMPTS);
  if (options.queueName !== undefined) checkQueueName(options.queueName);
  // Redis must answer before the suite folder is touched
  const client = await openRedis(options.target);
  let queue: Queue | null = null;
  let events: QueueEvents | null = null;
  try {
    const { suite, dir, plan, change } = await openSuite(suiteInput, options);
    const queueName = options.queueName ?? suiteQueueName(dir);
    const display = options.display ?? boardDisplay();
    const finishedBefore = plan.filter(isFinished);
    const board = new QueueBoard(`suite ${suite.name} (queue ${queueName})`, plan.map((run) => run.id), finishedBefore.map((run) => run.id));
    const unresolved = new Map(plan.filter((run) => !isFinished(run)).map((run) => [run.id, run]));
    const failed: QueuedSuiteOutcome['failed'] = [];
    let ran = 0;

    queue = new Queue(queueName, { connection: bullmqConnection(options.target) });
    events = new QueueEvents(queueName, { connection: bullmqConnection(options.target, { blocking: true }) });
    let connectionError: Error | null = null;
    queue.on('error', (error) => (connectionError = error));
    events.on('error', (error) => (connectionError = error));
    await events.waitUntilReady();
    await client.sadd(OPEN_SUITES, queueName);
    process.stderr.write(`suite ${suite.name}: ${unresolved.size} runs on queue ${queueName}; start workers with: zolo worker --queue URL --name ${queueName}\n`);

    // a resumed suite whose file changed: jobs of dropped runs leave the queue, and a job queued with an
    // older config of a run is replaced (a result computed from it would not be this run's)
    for (const id of change.dropped) {
      const job = await queue.getJob(id);
      if (job && (await job.getState()) !== 'active') await job.remove();
    }
    for (const run of unresolved.values()) {
      const wanted = suiteJob(suite.name, run);
      let existing = await queue.getJob(run.id);
      if (existing && JSON.stringify(existing.data) !== JSON.stringify(wanted)) {
        if ((await existing.getState()) === 'active') {
          throw new ConfigError(`run ${run.id} is running on a worker with the config it was queued with, and the suite file changed it; let it finish (or stop its worker) and resume again`);
        }
        await existing.remove();
        existing = undefined;
      }
      if (existing && (await existing.getState()) === 'failed') await existing.retry('failed');
      else if (!existing) await queue.add('run', wanted, { jobId: run.id, attempts, backoff: { type: 'fixed', delay: RETRY_DELAY_MS } });
    }

    const dirty = new Set<string>(unresolved.keys());
    let wake: (() => void) | null = null;
    const touch = (jobId: string): void => {
      dirty.add(jobId);
      wake?.();
    };
    events.on('active', ({ jobId }) => touch(jobId));
    events.on('completed', ({ jobId }) => touch(jobId));
    events.on('failed', ({ jobId }) => touch(jobId));
    events.on('waiting', ({ jobId }) => touch(jobId));
    events.on('stalled', ({ jobId }) => touch(jobId));
    events.on('progress', ({ jobId, data }) => {
      const progress = data as { step?: unknown; total?: unknown } | null;
      if (typeof progress?.step === 'number' && typeof progress.total === 'number' && board.update(jobId, { step: progress.step, total: progress.total })) display.show(board);
    });

    const inspect = async (run: PlannedRun): Promise<void> => {
      const job = await Job.fromId(queue!, run.id);
      if (!job) {
        // removed from Redis behind our back: queue it again
        await queue!.add('run', suiteJob(suite.name, run), { jobId: run.id, attempts, backoff: { type: 'fixed', delay: RETRY_DELAY_MS } });
        return;
      }
      const state = await job.getState();
      const worker = job.processedBy ?? null;
      if (state === 'completed') {
        const result = readSuiteJobResult(job.returnvalue, run.id);
        writeRunFiles(run, result.summary, result.metrics);
        unresolved.delete(run.id);
        ran++;
        board.update(run.id, { state: 'done', worker: result.worker });
        display.show(board, `${run.id}: done on ${result.worker}: ${describeOutcome(result.summary)}`);
      } else if (state === 'failed') {
        unresolved.delete(run.id);
        failed.push({ id: run.id, reason: job.failedReason ?? 'unknown' });
        board.update(run.id, { state: 'failed', worker });
        display.show(board, `${run.id}: failed after ${job.attemptsMade} attempt(s)${worker ? ` (last on ${worker})` : ''}: ${job.failedReason}`);
      } else if (board.update(run.id, state === 'active' ? { state: 'running', worker } : { state: 'queued' })) {
        display.show(board);
      }
    };

    display.show(board);
    let lastSweep = performance.now();
    while (unresolved.size > 0) {
      if (connectionError) throw connectionError;
      if (performance.now() - lastSweep >= SWEEP_MS) {
        lastSweep = performance.now();
        for (const id of unresolved.keys()) dirty.add(id);
      }
      const ids = [...dirty];
      dirty.clear();
      for (const id of ids) {
        const run = unresolved.get(id);
        if (run) await inspect(run);
      }
      if (dirty.size === 0 && unresolved.size > 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, SWEEP_MS).unref();
        });
        wake = null;
      }
    }
    display.end(board);
    await client.srem(OPEN_SUITES, queueName);
    // every result is on disk now; failed runs are queued afresh by --resume
    await queue.obliterate({ force: true });
    const results = collectResults(suite, plan);
    const { reportPath, plotPaths } = await writeSuiteOutputs(dir, results);
    return { dir, results, reportPath, plotPaths, ran, skipped: finishedBefore.length, change, queue: queueName, failed };
  } finally {
    await events?.close().catch(() => {});
    await queue?.close().catch(() => {});
    client.disconnect();
  }
}
