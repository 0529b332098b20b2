/** Validation of the truncation options shared by TT-SVD and rounding. */
import { ConfigError } from '../errors.ts';
import { resolveRanks } from './ttTensor.ts';

export interface TruncationOptions {
  /**
   * ε in ‖A − TT(A)‖_F ≤ ε‖A‖_F (Oseledets 2011, Thm 2.2); must be > 0. Omitted: truncate by
   * `maxRank` only (TensorLy's behaviour), i.e. keep every singular value up to the cap.
   */
  relativeError?: number;
  /** Cap on the TT ranks: one number for every inner rank, or the d+1 ranks r_0..r_d (ends 1). */
  maxRank?: number | readonly number[];
  /** Names the tensor/layer in error messages. */
  name?: string;
}

export interface ResolvedTruncation {
  relativeError: number;
  /** d+1 caps; Infinity where uncapped. */
  caps: number[];
  name: string;
}

export function resolveTruncation(options: TruncationOptions, d: number, defaultName: string): ResolvedTruncation {
  const name = options.name ?? defaultName;
  const { relativeError } = options;
  if (relativeError !== undefined && !(Number.isFinite(relativeError) && relativeError > 0)) {
    throw new ConfigError(`${name}: relativeError (ε) must be a positive finite number, got ${relativeError}`);
  }
  const caps = options.maxRank === undefined
    ? [1, ...new Array<number>(Math.max(d - 1, 0)).fill(Infinity), 1]
    : resolveRanks(options.maxRank, d, `${name}.maxRank`);
  return { relativeError: relativeError ?? 0, caps, name };
}
