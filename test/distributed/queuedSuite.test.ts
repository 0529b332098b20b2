/**
 * Suites spread over BullMQ workers on a private redis-server: the result equals a local run of
 * the same suite (numbers identical, timings aside); a worker killed with SIGKILL mid-run loses its
 * job to another worker after the stall timeout, with nothing lost or counted twice; a hostile job
 * is rejected without being executed; Redis down at start is a clear error.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Job, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import { readMetrics, type SuiteResults } from '../../src/experiment/results.ts';
import { runSuite } from '../../src/experiment/suite.ts';
import { parseSuite } from '../../src/experiment/suiteConfig.ts';
import { RedisUnavailable } from '../../src/distributed/errors.ts';
import { runQueuedSuite } from '../../src/distributed/queuedSuite.ts';
import { bullmqConnection } from '../../src/distributed/redisConnection.ts';
import { startSuiteWorker } from '../../src/distributed/suiteWorker.ts';
import { SUITE_JOB_FORMAT } from '../../src/distributed/suiteJob.ts';
import { freePort, startRedisServer, type RedisServer } from './redisServer.ts';

let redis: RedisServer;
const root = mkdtempSync(join(tmpdir(), 'zolo-queue-'));
const slowPlugin = resolve('test/fixtures/plugins/slowMezo.ts');
const hostilePlugin = resolve('test/fixtures/plugins/hostileMarker.ts');
beforeAll(async () => {
  redis = await startRedisServer();
});
/** worker processes this file starts: killed at the end even when a test failed before it killed them */
const spawned: ChildProcess[] = [];
afterAll(async () => {
  for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

const suite = () =>
  parseSuite({
    name: 'queued',
    base: { backend: 'cpu', task: 'synthetic-blobs', model: 'linear', steps: 24, checkpointEvery: 4, evalInterval: 8, lr: 0.03, plugins: [slowPlugin] },
    seeds: [0, 1],
    runs: [
      { label: 'Slow', method: 'slow-mezo' },
      { label: 'MeZO', method: 'mezo', grid: { 'options.eps': [1e-3, 1e-2] } },
    ],
  });

/** What a run's numbers are, without the wall-clock fields. */
function numbers(results: SuiteResults): Record<string, unknown> {
  const strip = (value: unknown): unknown => JSON.parse(JSON.stringify(value, (key, inner) => (key === 'timing' || key === 'wallSeconds' || key === 'wallMs' ? undefined : inner)));
  return Object.fromEntries(results.runs.map((run) => [run.id, strip({ summary: run.summary, curve: run.curve })]));
}

const untilTrue = async (what: string | (() => string), check: () => Promise<boolean>, timeoutMs = 240_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

describe('queued suites', () => {
  it('two workers give the local suite\'s numbers; a worker killed mid-run loses its job to the other, nothing counted twice', async () => {
    // the local reference runs alongside (slow-mezo mostly waits)
    const localRun = runSuite(suite(), { out: join(root, 'local') });
    const target = { url: redis.url };
    const queueName = 'zolo-suite-test';
    const lines: string[] = [];
    const queued = runQueuedSuite(suite(), { target, out: join(root, 'queued'), queueName, display: { show: (board, event) => lines.push(...(event ? [event] : []), board.summaryLine()), end: (board) => lines.push(...board.lines()) } });

    // worker A: a separate process, killed with SIGKILL while it runs a slow job
    const workerA = spawn(process.execPath, ['bin/zolo.js', 'worker', '--queue', redis.url, '--name', queueName, '--stall-timeout', '10', '--plugin', slowPlugin, '--worker-name', 'A', '--work-dir', join(root, 'A')], { stdio: ['ignore', 'ignore', 'pipe'] });
    spawned.push(workerA);
    let stderrOfA = '';
    workerA.stderr!.on('data', (chunk: Buffer) => (stderrOfA += chunk.toString()));
    const queue = new Queue(queueName, { connection: bullmqConnection(target) });
    // worker B starts once A holds a job, so B's start overlaps A's run
    await untilTrue(() => `worker A to take a job (its exit code: ${workerA.exitCode}; its log:\n${stderrOfA})`, async () => (await queue.getActiveCount()) > 0);
    const workerB = await startSuiteWorker({ target, queueName, name: 'B', plugins: [slowPlugin], stallTimeoutMs: 10_000, workDir: join(root, 'B'), log: () => {} });
    let killedRun = '';
    await untilTrue(() => `worker A to be mid-run (its exit code: ${workerA.exitCode}; its log:\n${stderrOfA})`, async () => {
      for (const id of ['slow-s0', 'slow-s1']) {
        const job = await Job.fromId(queue, id);
        const progress = job?.progress as { step?: number } | undefined;
        if (job?.processedBy === 'A' && (await job.getState()) === 'active' && (progress?.step ?? 0) >= 2) {
          killedRun = id;
          return true;
        }
      }
      return false;
    });
    const childrenOfA = spawnSync('pgrep', ['-P', String(workerA.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
    workerA.kill('SIGKILL');
    // its run process notices the lost parent and exits: no orphan keeps writing the run
    await untilTrue('worker A\'s run process to exit', async () => childrenOfA.every((pid) => spawnSync('kill', ['-0', String(pid)]).status !== 0), 30_000);

    let outcome: Awaited<typeof queued>;
    try {
      outcome = await queued;
    } finally {
      await workerB.close();
      await queue.close();
    }

    const local = await localRun;
    expect(outcome.failed).toEqual([]);
    expect(outcome.results.runs.map((run) => run.id).sort()).toEqual(local.results.runs.map((run) => run.id).sort());
    expect(numbers(outcome.results)).toEqual(numbers(local.results));
    // each run folder's config.json is the local one's (plug-ins relative to the folder; only `out` names another folder)
    const savedConfig = (dir: string, id: string): unknown => ({ ...(JSON.parse(readFileSync(join(dir, 'runs', id, 'config.json'), 'utf8')) as object), out: null });
    for (const run of local.results.runs) expect(savedConfig(outcome.dir, run.id)).toEqual(savedConfig(local.dir, run.id));
    // the run A was killed in was finished by B, and collected once: one metrics line per logged step, no duplicates
    expect(lines.filter((line) => line.startsWith(`${killedRun}: done`))).toEqual([expect.stringMatching(new RegExp(`^${killedRun}: done on B: `))]);
    const steps = readMetrics(join(outcome.dir, 'runs', killedRun)).map((line) => line.step);
    expect(steps).toEqual(readMetrics(join(local.dir, 'runs', killedRun)).map((line) => line.step));
    expect(lines.at(-1)).toMatch(/^ {2}B\s+idle {2}· {2}\d+ done {2}· {2}0 failed$/);
    expect(existsSync(join(outcome.dir, 'report.md'))).toBe(true);

    // --resume of the finished suite queues nothing (no worker is running now) and writes the same results
    const resumed = await runQueuedSuite(suite(), { target, out: outcome.dir, resume: true, display: { show: () => {}, end: () => {} } });
    expect([resumed.ran, resumed.skipped]).toEqual([0, 6]);
    expect(numbers(resumed.results)).toEqual(numbers(local.results));
    // four processes run here at once (two workers' run processes, the local suite, this one): on a
    // 2-core machine at load 12 a wait ran past 90 s, so the bounds are generous; they only stop a hang
  }, 600_000);

  it('--resume with a suite file that adds runs queues just those, as a local resume runs just those', async () => {
    const target = { url: redis.url };
    const small = (seeds: number[]) => parseSuite({ name: 'grown', base: { backend: 'cpu', task: 'synthetic-blobs', model: 'linear', steps: 4, evalInterval: 2 }, seeds, runs: [{ label: 'MeZO', method: 'mezo' }] });
    const silent = { show: () => {}, end: () => {} };
    const worker = await startSuiteWorker({ target, queueName: 'zolo-suite-grown', name: 'D', workDir: join(root, 'D'), log: () => {} });
    try {
      const out = join(root, 'grown');
      const first = await runQueuedSuite(small([0]), { target, out, queueName: 'zolo-suite-grown', display: silent });
      expect([first.ran, first.skipped]).toEqual([1, 0]);
      const grown = await runQueuedSuite(small([0, 1]), { target, out, resume: true, file: 'grown.json', queueName: 'zolo-suite-grown', display: silent });
      expect(grown.change).toEqual({ added: ['mezo-s1'], dropped: [] });
      expect([grown.ran, grown.skipped]).toEqual([1, 1]);
      const local = await runSuite(small([0, 1]), { out: join(root, 'grown-local') });
      expect(numbers(grown.results)).toEqual(numbers(local.results));
    } finally {
      await worker.close();
    }
  }, 600_000);

  it('rejects a hostile job without running it, and without retries', async () => {
    const target = { url: redis.url };
    const queueName = 'zolo-suite-hostile';
    const marker = join(root, 'hostile-imported');
    process.env.ZOLO_TEST_HOSTILE_MARKER = marker;
    const queue = new Queue(queueName, { connection: bullmqConnection(target) });
    const config = { method: 'mezo', task: 'synthetic-blobs', model: 'linear', backend: 'cpu', steps: 2, plugins: [hostilePlugin] };
    await queue.add('run', { format: SUITE_JOB_FORMAT, suite: 'x', runId: 'hostile-s0', label: 'x', config }, { jobId: 'hostile-s0', attempts: 3 });
    const logged: string[] = [];
    const worker = await startSuiteWorker({ target, queueName, name: 'C', workDir: join(root, 'C'), log: (line) => logged.push(line) });
    try {
      await untilTrue('the hostile job to fail', async () => (await (await Job.fromId(queue, 'hostile-s0'))?.getState()) === 'failed', 30_000);
      const job = (await Job.fromId(queue, 'hostile-s0'))!;
      expect(job.failedReason).toMatch(/^JobRejected: job hostile-s0: config\.plugins names .*hostileMarker\.ts, which this process was not started with/);
      expect(job.attemptsMade).toBe(1);
      expect(existsSync(marker)).toBe(false);
      expect(existsSync(join(root, 'C', queueName, 'hostile-s0'))).toBe(false);
      expect(logged.some((line) => line.includes('rejected job hostile-s0'))).toBe(true);
    } finally {
      delete process.env.ZOLO_TEST_HOSTILE_MARKER;
      await worker.close();
      await queue.close();
    }
  });

  it('says at once that Redis is down, before touching the suite folder', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const out = join(root, 'never');
    await expect(runQueuedSuite(suite(), { target: { url, connectTimeoutMs: 2_000 }, out })).rejects.toThrow(RedisUnavailable);
    expect(existsSync(out)).toBe(false);
    await expect(startSuiteWorker({ target: { url, connectTimeoutMs: 2_000 }, log: () => {} })).rejects.toThrow(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  });
});
