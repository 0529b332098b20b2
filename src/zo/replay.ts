/**
 * Checkpoint-by-trajectory (MeZO §2.1): a ZO run is its starting parameters plus, per step, the
 * seeds, the projected gradients c_j, the lr and any optimizer decision. This file defines that log
 * (JSON lines, DIR/zo-log.jsonl) and `replayZo`, which rebuilds the final parameters without a single
 * forward pass by re-running each step's in-place arithmetic — perturb, restore, update, in the same
 * order with the same scalars — so on a deterministic backend (cpu) the result is bit-for-bit the
 * trained parameters. Numbers survive JSON exactly (shortest round-trip float64 formatting).
 *
 * Format (version 2): the first line is a header, then one line per step in order.
 *   {"kind":"header","format":"zolo-zo-log","version":2,"noise":2,"method":"mezo","parts":{…},"options":{…},
 *    "seed":42,"params":[{"name":"w","index":0,"shape":[3,4],"trainable":true},…],"start":"start.safetensors"}
 *   {"kind":"step","step":0,"lr":1e-6,"seeds":[…],"projectedGradients":[…]}   (+ "decision" for Cons)
 * A writer that can only emit one line per step may instead put the header object under a `header`
 * key of the step-0 line. `start` (optional) names the starting checkpoint relative to the log's folder.
 * `noise` is the noise-stream format (NOISE_FORMAT_VERSION, noiseStreams.ts) the seeds expand under;
 * version 1 logs (which have no `noise` field) used noise format 1 and are refused: the same seeds
 * now give other z, so replaying them would silently build different weights.
 */
import { ConfigError, FormatError } from '../errors.ts';
import { NOISE_FORMAT_VERSION } from '../kernels/noiseStreams.ts';
import type { ParamStore } from '../tensor/index.ts';
import { createEstimator, type Estimator, type EstimatorState, type LoggedStep } from './estimator.ts';
import type { Options, PresetParts, StepRecord } from './types.ts';

export const ZO_LOG_FILE = 'zo-log.jsonl';
export const ZO_LOG_FORMAT = 'zolo-zo-log';
export const ZO_LOG_VERSION = 2;

export interface ZoLogParam {
  name: string;
  /** position in the ParamStore: the key of the parameter's noise streams. */
  index: number;
  shape: number[];
  trainable: boolean;
}

export interface ZoLogHeader {
  kind: 'header';
  format: typeof ZO_LOG_FORMAT;
  version: typeof ZO_LOG_VERSION;
  /** the noise-stream format the seeds were drawn under. */
  noise: typeof NOISE_FORMAT_VERSION;
  method: string;
  parts: PresetParts;
  options: Options;
  seed: number;
  /** every parameter of the store in order (indices matter for the noise streams). */
  params: ZoLogParam[];
  start?: string;
}

export interface ZoLogStep extends LoggedStep {
  kind: 'step';
  header?: ZoLogHeader;
}

export interface ZoLog {
  header: ZoLogHeader;
  steps: LoggedStep[];
}

export function zoLogHeader(estimator: Estimator, state: EstimatorState, extra: { start?: string } = {}): ZoLogHeader {
  const { perturbation, schedule, difference, optimizer } = estimator.parts;
  const header: ZoLogHeader = {
    kind: 'header',
    format: ZO_LOG_FORMAT,
    version: ZO_LOG_VERSION,
    noise: NOISE_FORMAT_VERSION,
    method: estimator.method,
    parts: { perturbation: perturbation.name, schedule: schedule.name, difference: difference.name, optimizer: optimizer.name },
    options: { ...estimator.options },
    seed: state.runSeed,
    params: state.store.all().map((p) => ({ name: p.name, index: p.index, shape: [...p.tensor.shape], trainable: p.trainable })),
  };
  if (extra.start !== undefined) header.start = extra.start;
  return header;
}

export function zoLogStep(record: StepRecord): ZoLogStep {
  const line: ZoLogStep = { kind: 'step', step: record.step, lr: record.lr, seeds: record.seeds, projectedGradients: record.projectedGradients };
  if (record.decision !== undefined) line.decision = record.decision;
  return line;
}

function checkHeader(value: unknown, source: string): ZoLogHeader {
  const raw = value as { format?: unknown; version?: unknown; noise?: unknown } | null;
  if (raw?.format !== ZO_LOG_FORMAT) throw new FormatError(`${source}: header is not a ${ZO_LOG_FORMAT} header`);
  // a version-1 header predates the field and was always noise format 1
  const noise = raw.version === 1 && raw.noise === undefined ? 1 : raw.noise;
  if (noise !== NOISE_FORMAT_VERSION) {
    throw new FormatError(
      `${source}: the log was written with noise format ${String(noise)}, this zolo regenerates noise with format ${NOISE_FORMAT_VERSION} ` +
        `(stream keys hashed from seed, tensor and purpose name), so its seeds would give other perturbations and the run cannot be replayed. ` +
        `Replay it with the zolo version that wrote it, or re-run the training to get a replayable log`,
    );
  }
  if (raw.version !== ZO_LOG_VERSION) {
    throw new FormatError(`${source}: header version ${String(raw.version)} is not supported (this zolo reads ${ZO_LOG_FORMAT} version ${ZO_LOG_VERSION})`);
  }
  const header = value as ZoLogHeader;
  if (typeof header.method !== 'string' || !Array.isArray(header.params) || !Number.isInteger(header.seed)) {
    throw new FormatError(`${source}: header lacks method, seed or params`);
  }
  return header;
}

/**
 * Refuses to append to a log whose header (in `firstLine`) names another noise format or log
 * version: a resumed run would mix two kinds of z in one trajectory. A first line without a header
 * (a method that logs none) passes.
 */
export function checkZoLogResumable(firstLine: string, source = ZO_LOG_FILE): void {
  let entry: { kind?: unknown; header?: unknown } | null;
  try {
    entry = JSON.parse(firstLine);
  } catch (error) {
    throw new FormatError(`${source}:1: not JSON (${(error as Error).message})`);
  }
  const header = entry?.kind === 'header' ? entry : entry?.header;
  if (header !== undefined) checkHeader(header, `${source}:1`);
}

/** Parses a log; `header` supplies the header when the text has none. */
export function parseZoLog(text: string, source = ZO_LOG_FILE, header?: ZoLogHeader): ZoLog {
  let found: ZoLogHeader | undefined = header;
  const steps: LoggedStep[] = [];
  text.split('\n').forEach((raw, lineIndex) => {
    const line = raw.trim();
    if (line === '') return;
    let entry: ZoLogStep | ZoLogHeader;
    try {
      entry = JSON.parse(line);
    } catch (error) {
      throw new FormatError(`${source}:${lineIndex + 1}: not JSON (${(error as Error).message})`);
    }
    if (entry.kind === 'header') {
      found = checkHeader(entry, `${source}:${lineIndex + 1}`);
      return;
    }
    if (entry.header) found = checkHeader(entry.header, `${source}:${lineIndex + 1}`);
    const { step, lr, seeds, projectedGradients, decision } = entry as ZoLogStep;
    if (
      !Number.isInteger(step) || typeof lr !== 'number' || !Array.isArray(seeds) || !Array.isArray(projectedGradients) ||
      seeds.length === 0 || seeds.length !== projectedGradients.length
    ) {
      throw new FormatError(`${source}:${lineIndex + 1}: a step line needs step, lr and equally long non-empty seeds and projectedGradients`);
    }
    if (step !== steps.length) throw new FormatError(`${source}:${lineIndex + 1}: expected step ${steps.length}, got ${step}`);
    steps.push(decision === undefined ? { step, lr, seeds, projectedGradients } : { step, lr, seeds, projectedGradients, decision });
  });
  if (!found) throw new FormatError(`${source}: no header line (kind "header") and none given`);
  return { header: found, steps };
}

/**
 * Applies every logged step to `params` (which must hold the run's starting values and the same
 * parameters in the same order as the header) and returns the number of steps replayed. No loss
 * is evaluated. Mismatched parameters are a FormatError naming the first difference.
 */
export async function replayZo(params: ParamStore, log: ZoLog): Promise<{ steps: number }> {
  const { header } = log;
  const all = params.all();
  if (all.length !== header.params.length) {
    throw new FormatError(`replay: the log describes ${header.params.length} parameters, the store has ${all.length}`);
  }
  header.params.forEach((described, i) => {
    const actual = all[i]!;
    const sameShape = described.shape.length === actual.tensor.shape.length && described.shape.every((d, k) => d === actual.tensor.shape[k]);
    if (described.name !== actual.name || !sameShape || described.trainable !== actual.trainable) {
      throw new FormatError(
        `replay: parameter ${i} is "${actual.name}" [${actual.tensor.shape.join(', ')}] trainable=${actual.trainable} in the store, ` +
          `"${described.name}" [${described.shape.join(', ')}] trainable=${described.trainable} in the log`,
      );
    }
  });
  let estimator: Estimator;
  try {
    estimator = createEstimator(header.method, { ...header.parts, ...header.options });
  } catch (error) {
    if (error instanceof ConfigError) throw new FormatError(`replay: the log's method cannot be rebuilt: ${error.message}`);
    throw error;
  }
  let state = estimator.init(params, { seed: header.seed });
  try {
    for (const logged of log.steps) state = await estimator.replayStep(state, logged);
  } finally {
    estimator.dispose(state);
  }
  return { steps: log.steps.length };
}
