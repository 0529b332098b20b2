/**
 * The process a worker runs suite jobs in (`zolo worker --run-jobs`, forked by runProcesses.ts).
 * It takes one run at a time over the IPC channel, runs it with the ordinary runner, and answers
 * with the run's summary and metrics. Runs live in their own processes so that the worker's own
 * event loop stays free to renew its job locks however long a forward pass or an evaluation
 * blocks, and so that `--concurrency N` uses N cores. When the worker dies, the IPC channel closes
 * and this process exits too: an orphan must not keep writing a run that is retried elsewhere.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import '../experiment/builtins.ts';
import { parseRunConfig } from '../experiment/config.ts';
import { FILES, runExperiment } from '../experiment/runner.ts';
import type { RunProgress } from '../experiment/progress.ts';
import type { RunSummary } from '../experiment/runner.ts';

export interface RunRequest {
  kind: 'run';
  /** the validated run config with the worker's `out`. */
  config: unknown;
  resume: boolean;
  label: string;
}

export type RunReply =
  | { kind: 'progress'; step: number; total: number }
  | { kind: 'done'; summary: RunSummary; metrics: string }
  | { kind: 'error'; name: string; message: string };

/** At most one progress message per this many milliseconds. */
const PROGRESS_EVERY_MS = 1_000;

function progressOverIpc(send: (reply: RunReply) => void): RunProgress {
  let total = 0;
  let last = 0;
  return {
    start(_label, totalSteps, startStep) {
      total = totalSteps;
      send({ kind: 'progress', step: startStep, total });
    },
    step(step) {
      const now = performance.now();
      if (now - last < PROGRESS_EVERY_MS && step !== total) return;
      last = now;
      send({ kind: 'progress', step, total });
    },
    stop() {},
  };
}

export function serveRunRequests(): void {
  const send = (reply: RunReply): void => {
    process.send?.(reply);
  };
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: RunRequest) => {
    void (async () => {
      try {
        const config = parseRunConfig(message.config, 'run request');
        const { summary } = await runExperiment(config, { resume: message.resume, label: message.label, progress: progressOverIpc(send) });
        send({ kind: 'done', summary, metrics: readFileSync(join(config.out!, FILES.metrics), 'utf8') });
      } catch (error) {
        send({ kind: 'error', name: (error as Error).name, message: (error as Error).message });
      }
    })();
  });
}
