/**
 * A worker's run processes: up to `size` children (jobProcess.ts), each running one run at a time
 * and reused for the next. A child that dies mid-run fails that run (the job is retried by BullMQ)
 * and is replaced by a fresh one for the next.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunSummary } from '../experiment/runner.ts';
import type { RunReply, RunRequest } from './jobProcess.ts';

/** The zolo command, from src/ (through tsx) or from dist/, whichever this module was loaded from. */
const ZOLO_BIN = fileURLToPath(new URL('../../bin/zolo.js', import.meta.url));

export interface RunOutput {
  summary: RunSummary;
  metrics: string;
}

export class RunProcesses {
  private readonly idle: ChildProcess[] = [];
  private busy = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly children = new Set<ChildProcess>();

  constructor(readonly size: number) {}

  private async slot(): Promise<ChildProcess> {
    while (this.busy >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.busy++;
    // an idle child may have died since its last run
    for (let reused = this.idle.pop(); reused; reused = this.idle.pop()) if (reused.connected) return reused;
    // no inherited execArgv: a test runner's or debugger's flags are not the run's
    const child = fork(ZOLO_BIN, ['worker', '--run-jobs'], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  private free(child: ChildProcess | null): void {
    this.busy--;
    if (child && child.connected) this.idle.push(child);
    this.waiting.shift()?.();
  }

  /** Runs one run in a child; `onProgress` hears (step, total) about once a second. */
  async run(request: Omit<RunRequest, 'kind'>, onProgress: (step: number, total: number) => void): Promise<RunOutput> {
    const child = await this.slot();
    let reusable = true;
    try {
      return await new Promise<RunOutput>((resolve, reject) => {
        const onMessage = (reply: RunReply): void => {
          if (reply.kind === 'progress') return onProgress(reply.step, reply.total);
          cleanup();
          if (reply.kind === 'done') resolve({ summary: reply.summary, metrics: reply.metrics });
          else reject(Object.assign(new Error(reply.message), { name: reply.name }));
        };
        const onExit = (code: number | null, signal: string | null): void => {
          cleanup();
          reusable = false;
          reject(new Error(`the run process exited (code ${code}, signal ${signal}) before the run finished`));
        };
        const cleanup = (): void => {
          child.off('message', onMessage);
          child.off('exit', onExit);
        };
        child.on('message', onMessage);
        child.on('exit', onExit);
        child.send({ kind: 'run', ...request } satisfies RunRequest);
      });
    } finally {
      this.free(reusable ? child : null);
    }
  }

  close(): void {
    for (const child of this.children) child.kill('SIGKILL');
    this.children.clear();
    this.idle.length = 0;
  }
}
