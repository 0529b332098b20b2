/**
 * `zolo worker --queue URL`: takes suite jobs (queuedSuite.ts) from Redis and runs them, each in a
 * run process of its own (runProcesses.ts), `concurrency` at a time. Every job is validated before
 * anything runs (suiteJob.ts); a rejected job fails at once, without retries.
 *
 * A run writes into WORKDIR/<queue>/<run id>. When that folder already holds the same run (a retry
 * on this worker, or WORKDIR on storage every worker mounts), the run resumes from its checkpoint;
 * otherwise it starts afresh. Only summary.json and metrics.jsonl travel back in the job's result.
 *
 * Stalls: the worker holds a lock on each job it runs and renews it from its own event loop (the
 * run processes do the heavy work, so renewal never waits for a forward pass). A worker that dies
 * stops renewing; after `stallTimeoutMs` another worker's stall check moves the job back to the
 * queue — at most `maxStalls` times, after which the job fails.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RunConfig } from '../experiment/config.ts';
import { FILES } from '../experiment/runner.ts';
import { LOCK_FILE } from '../experiment/runLock.ts';
import { assertPositiveInteger } from '../errors.ts';
import { JobRejected } from './errors.ts';
import { checkQueueName, OPEN_SUITES } from './queueNames.ts';
import { bullmqConnection, openRedis } from './redisConnection.ts';
import type { RedisTarget } from './redisTarget.ts';
import { RunProcesses } from './runProcesses.ts';
import { acceptSuiteJob, SUITE_RESULT_FORMAT, type SuiteJobResult } from './suiteJob.ts';

export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_STALLS = 1;
export const DEFAULT_WORK_DIR = join('runs', 'worker');
/** How often a worker without --name looks for newly opened suites. */
const DISCOVERY_MS = 3_000;

export interface SuiteWorkerOptions {
  target: RedisTarget;
  /** the suite queue to serve; default every open suite (the suites `zolo suite --queue` is collecting). */
  queueName?: string;
  concurrency?: number;
  workDir?: string;
  /** plug-in modules jobs may name. */
  plugins?: string[];
  stallTimeoutMs?: number;
  maxStalls?: number;
  /** the name jobs record as `processedBy`; default <host>-<pid>. */
  name?: string;
  log?: (line: string) => void;
}

export interface SuiteWorker {
  readonly name: string;
  /** stops taking jobs, waits for the running ones, ends the run processes. */
  close(): Promise<void>;
}

/** Whether WORKDIR/…/<id> holds this very run (its config.json says so), so a retry may resume it. */
function sameRun(dir: string, config: RunConfig): boolean {
  const path = join(dir, FILES.config);
  if (!existsSync(path)) return false;
  try {
    const { out: _a, force: _b, ...saved } = JSON.parse(readFileSync(path, 'utf8')) as RunConfig;
    const { out: _c, force: _d, ...wanted } = config;
    return JSON.stringify(saved) === JSON.stringify(wanted);
  } catch {
    return false;
  }
}

export async function startSuiteWorker(options: SuiteWorkerOptions): Promise<SuiteWorker> {
  const concurrency = assertPositiveInteger('--concurrency', options.concurrency ?? 1);
  const stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  const maxStalls = options.maxStalls ?? DEFAULT_MAX_STALLS;
  const workDir = options.workDir ?? DEFAULT_WORK_DIR;
  const name = options.name ?? `${hostname()}-${process.pid}`;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.queueName !== undefined) checkQueueName(options.queueName);
  const client = await openRedis(options.target);
  const processes = new RunProcesses(concurrency);
  const workers = new Map<string, Worker>();

  const processJob = (queueName: string) => async (job: Job): Promise<SuiteJobResult> => {
    let accepted: Awaited<ReturnType<typeof acceptSuiteJob>>;
    try {
      accepted = await acceptSuiteJob(job.data, options.plugins ?? []);
    } catch (error) {
      if (!(error instanceof JobRejected)) throw error;
      log(`${name}: rejected job ${job.id} of ${queueName}: ${error.message}`);
      // a job that is wrong now is wrong on every retry
      throw new UnrecoverableError(`JobRejected: ${error.message}`);
    }
    const { job: data, config } = accepted;
    const dir = join(workDir, queueName, data.runId);
    const resume = sameRun(dir, config);
    // a job retried after a stall: the worker that held it is gone, so is its claim on the folder
    if (resume && job.attemptsStarted > 1) rmSync(join(dir, LOCK_FILE), { force: true });
    log(`${name}: ${resume ? 'resuming' : 'running'} ${data.runId} of ${queueName} (attempt ${job.attemptsStarted})`);
    const output = await processes.run({ config: { ...config, out: dir, force: !resume }, resume, label: data.label }, (step, total) => {
      void job.updateProgress({ step, total }).catch(() => {});
    });
    log(`${name}: finished ${data.runId} of ${queueName}`);
    return { format: SUITE_RESULT_FORMAT, runId: data.runId, worker: name, summary: output.summary, metrics: output.metrics };
  };

  const serve = (queueName: string): void => {
    if (workers.has(queueName)) return;
    const worker = new Worker(queueName, processJob(queueName), {
      connection: bullmqConnection(options.target, { blocking: true }),
      name,
      concurrency,
      lockDuration: stallTimeoutMs,
      stalledInterval: stallTimeoutMs,
      maxStalledCount: maxStalls,
    });
    worker.on('error', (error) => log(`${name}: queue ${queueName}: ${error.message}`));
    workers.set(queueName, worker);
    log(`${name}: serving ${queueName} (${concurrency} at a time, work folder ${join(workDir, queueName)})`);
  };

  let discovery: NodeJS.Timeout | null = null;
  if (options.queueName !== undefined) {
    serve(options.queueName);
  } else {
    const discover = async (): Promise<void> => {
      for (const queueName of await client.smembers(OPEN_SUITES)) serve(checkQueueName(queueName, OPEN_SUITES));
    };
    await discover();
    if (workers.size === 0) log(`${name}: no suite is open yet; waiting for \`zolo suite FILE --queue URL\``);
    discovery = setInterval(() => void discover().catch((error: Error) => log(`${name}: ${error.message}`)), DISCOVERY_MS);
  }

  return {
    name,
    async close() {
      if (discovery) clearInterval(discovery);
      await Promise.all([...workers.values()].map((worker) => worker.close()));
      processes.close();
      client.disconnect();
    },
  };
}
