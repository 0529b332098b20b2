/**
 * Progress of a queued suite: every run is queued, running, done or failed, and every running or
 * finished run belongs to the worker that took it. The board keeps that state and renders it as
 * lines — one for the suite, one per worker:
 *
 *   suite mezo (queue zolo-suite-…): 12 runs — 4 queued, 2 running, 5 done, 1 failed
 *     host-a-4121  running mezo-lr=0.01-s0 (step 40/100)  ·  3 done  ·  0 failed
 *     host-b-977   running sgd-s1  ·  2 done  ·  1 failed
 *
 * On a terminal the lines are redrawn in place; elsewhere (CI logs, pipes) the lines are printed
 * again whenever a count changes (a run's step alone is no change), plus one line per finished run.
 */
import { useBars } from '../experiment/progress.ts';

export type RunState = 'queued' | 'running' | 'done' | 'failed';

interface RunEntry {
  state: RunState;
  worker: string | null;
  step: number | null;
  total: number | null;
}

export class QueueBoard {
  private readonly runs = new Map<string, RunEntry>();

  constructor(
    readonly title: string,
    runIds: readonly string[],
    finished: readonly string[] = [],
  ) {
    for (const id of runIds) this.runs.set(id, { state: finished.includes(id) ? 'done' : 'queued', worker: null, step: null, total: null });
  }

  state(runId: string): RunState | undefined {
    return this.runs.get(runId)?.state;
  }

  /** Records a change; returns whether anything visible changed. */
  update(runId: string, patch: Partial<RunEntry>): boolean {
    const entry = this.runs.get(runId);
    if (!entry) return false;
    const before = JSON.stringify(entry);
    Object.assign(entry, patch);
    if (patch.state && patch.state !== 'running') {
      entry.step = null;
      entry.total = null;
    }
    return JSON.stringify(entry) !== before;
  }

  counts(): Record<RunState, number> {
    const counts: Record<RunState, number> = { queued: 0, running: 0, done: 0, failed: 0 };
    for (const entry of this.runs.values()) counts[entry.state]++;
    return counts;
  }

  summaryLine(): string {
    const counts = this.counts();
    return `${this.title}: ${this.runs.size} runs — ${counts.queued} queued, ${counts.running} running, ${counts.done} done, ${counts.failed} failed`;
  }

  /** The summary line and one line per worker; `steps: false` leaves out the running runs' steps. */
  lines({ steps = true }: { steps?: boolean } = {}): string[] {
    const workers = new Map<string, { running: string[]; done: number; failed: number }>();
    for (const [id, entry] of this.runs) {
      if (entry.worker === null) continue;
      const row = workers.get(entry.worker) ?? { running: [], done: 0, failed: 0 };
      if (entry.state === 'running') row.running.push(steps && entry.step !== null && entry.total !== null ? `${id} (step ${entry.step}/${entry.total})` : id);
      if (entry.state === 'done') row.done++;
      if (entry.state === 'failed') row.failed++;
      workers.set(entry.worker, row);
    }
    const width = Math.max(0, ...[...workers.keys()].map((name) => name.length));
    const rows = [...workers.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, row]) => `  ${name.padEnd(width)}  ${row.running.length ? `running ${row.running.join(', ')}` : 'idle'}  ·  ${row.done} done  ·  ${row.failed} failed`);
    return [this.summaryLine(), ...rows];
  }
}

export interface BoardDisplay {
  /** redraws (terminal) or prints what changed (elsewhere); `event` is a finished run's line. */
  show(board: QueueBoard, event?: string): void;
  end(board: QueueBoard): void;
}

export function boardDisplay(stream: NodeJS.WriteStream = process.stderr): BoardDisplay {
  if (useBars(stream)) {
    let drawn = 0;
    const draw = (board: QueueBoard, event?: string): void => {
      if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[0J`);
      if (event) stream.write(`${event}\n`);
      const lines = board.lines();
      stream.write(`${lines.join('\n')}\n`);
      drawn = lines.length;
    };
    return { show: draw, end: (board) => draw(board) };
  }
  let last = '';
  return {
    show(board, event) {
      if (event) stream.write(`${event}\n`);
      const lines = board.lines({ steps: false }).join('\n');
      if (lines !== last) stream.write(`${lines}\n`);
      last = lines;
    },
    end(board) {
      const lines = board.lines().join('\n');
      if (lines !== last) stream.write(`${lines}\n`);
    },
  };
}
