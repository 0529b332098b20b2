/**
 * Stopping a run cleanly on SIGINT (Ctrl-C) or SIGTERM (kill, a scheduler's timeout). While a run
 * trains, the first signal only asks it to stop: the step in flight finishes, the runner writes a
 * checkpoint and throws RunInterrupted, whose message is the command that resumes the run. A second
 * signal exits at once (the last periodic checkpoint is still complete: writes are atomic).
 */
import { ZoloError } from '../errors.ts';

/** Conventional exit codes: 128 + the signal number. */
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
type StopSignal = keyof typeof EXIT_CODES;

export class RunInterrupted extends ZoloError {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface StopRequest {
  /** the signal received, or null while none was. */
  readonly signal: StopSignal | null;
  readonly exitCode: number;
  /** removes the handlers (the default behaviour of the signals returns). */
  dispose(): void;
}

/** Installs the handlers for the duration of a run. */
export function listenForStop(): StopRequest {
  let signal: StopSignal | null = null;
  const handlers = (Object.keys(EXIT_CODES) as StopSignal[]).map((name) => {
    const handler = (): void => {
      if (signal !== null) process.exit(EXIT_CODES[signal]);
      signal = name;
      process.stderr.write(`\n${name}: stopping after this step and writing a checkpoint (again to exit at once)\n`);
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    get signal() {
      return signal;
    },
    get exitCode() {
      return signal ? EXIT_CODES[signal] : 0;
    },
    dispose() {
      for (const [name, handler] of handlers) process.off(name, handler);
    },
  };
}

/** Lets queued macrotasks (signal handlers among them) run before the next step. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
