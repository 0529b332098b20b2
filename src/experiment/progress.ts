/**
 * Progress display: cli-progress bars when stderr is a terminal, plain lines otherwise (CI logs,
 * pipes). A suite shows two bars — the suite's runs and the current run's steps — through one
 * MultiBar; a single run shows one. Plain mode prints about ten lines per run.
 */
import cliProgress from 'cli-progress';

export interface StepInfo {
  loss: number;
  forwardPasses: number;
  accuracy?: number;
}

/** What the runner reports to; `null`-object friendly (every method may be a no-op). */
export interface RunProgress {
  start(label: string, totalSteps: number, startStep: number): void;
  step(step: number, info: StepInfo): void;
  stop(message?: string): void;
}

export interface SuiteProgress {
  startSuite(totalRuns: number, doneRuns: number): void;
  /** the progress sink for the next run. */
  run(label: string): RunProgress;
  finishRun(label: string, outcome: string): void;
  stopSuite(): void;
}

export const silentProgress: RunProgress = { start() {}, step() {}, stop() {} };

export function useBars(stream: NodeJS.WriteStream = process.stderr): boolean {
  return Boolean(stream.isTTY) && process.env.CI === undefined;
}

function formatInfo(info: StepInfo): string {
  const parts = [`loss ${info.loss.toFixed(4)}`, `fwd ${info.forwardPasses}`];
  if (info.accuracy !== undefined) parts.push(`acc ${(100 * info.accuracy).toFixed(1)}%`);
  return parts.join('  ');
}

/** A plain line at least this often during a run whose step budget says little (forward-pass or wall budgets). */
const PLAIN_LINE_SECONDS = 15;

/** Plain lines on `write`: start, every ~10% of the steps (or every 15 s), and the end. */
export function plainRunProgress(write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): RunProgress {
  let label = '';
  let total = 0;
  let every = 1;
  let lastLine = 0;
  return {
    start(name, totalSteps, startStep) {
      label = name;
      total = totalSteps;
      every = Math.max(1, Math.ceil(totalSteps / 10));
      lastLine = performance.now();
      write(`[${label}] ${startStep > 0 ? `resuming at step ${startStep}` : 'starting'} (at most ${totalSteps} steps)`);
    },
    step(step, info) {
      const now = performance.now();
      if (step % every === 0 || step === total || now - lastLine > PLAIN_LINE_SECONDS * 1000) {
        lastLine = now;
        write(`[${label}] step ${step}/${total}  ${formatInfo(info)}`);
      }
    },
    stop(message) {
      if (message) write(`[${label}] ${message}`);
    },
  };
}

function barFormat(): string {
  return '{label} |{bar}| {value}/{total} {info}';
}

function barRunProgress(multi?: cliProgress.MultiBar): RunProgress {
  const own = multi ?? new cliProgress.MultiBar({ format: barFormat(), hideCursor: true, clearOnComplete: false, stream: process.stderr });
  let bar: cliProgress.SingleBar | null = null;
  return {
    start(label, totalSteps, startStep) {
      bar = own.create(totalSteps, startStep, { label: label.padEnd(24).slice(0, 24), info: '' });
    },
    step(step, info) {
      bar?.update(step, { info: formatInfo(info) });
    },
    stop(message) {
      if (bar && message) bar.update({ info: message });
      if (bar && multi) multi.remove(bar);
      if (!multi) own.stop();
      bar = null;
    },
  };
}

export function runProgress(): RunProgress {
  return useBars() ? barRunProgress() : plainRunProgress();
}

export function suiteProgress(write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): SuiteProgress {
  if (!useBars()) {
    let total = 0;
    let done = 0;
    return {
      startSuite(totalRuns, doneRuns) {
        total = totalRuns;
        done = doneRuns;
        write(`suite: ${totalRuns} runs, ${doneRuns} already finished`);
      },
      run: () => plainRunProgress(write),
      finishRun(label, outcome) {
        done++;
        write(`suite: run ${done}/${total} ${label}: ${outcome}`);
      },
      stopSuite() {},
    };
  }
  const multi = new cliProgress.MultiBar({ format: barFormat(), hideCursor: true, clearOnComplete: false, stream: process.stderr });
  let suiteBar: cliProgress.SingleBar | null = null;
  let done = 0;
  return {
    startSuite(totalRuns, doneRuns) {
      done = doneRuns;
      suiteBar = multi.create(totalRuns, doneRuns, { label: 'suite'.padEnd(24), info: '' });
    },
    run: () => barRunProgress(multi),
    finishRun(label, outcome) {
      done++;
      suiteBar?.update(done, { info: `last: ${label} ${outcome}` });
    },
    stopSuite() {
      multi.stop();
    },
  };
}
