/**
 * What models take. Token ids are row-major [batch, seq], right-padded; `lengths[b]` counts the
 * real tokens of row b (all `seq` when omitted). The structural types match src/data's batches
 * (ClassifierBatch, PromptBatch, LmBatch), so those can be passed as they are.
 */
import { ConfigError, ShapeError } from '../errors.ts';
import type { TransformerConfig } from './config.ts';

export interface TokenBatch {
  /** [batch, seq] token ids. */
  ids: Int32Array;
  batch: number;
  seq: number;
  /** [batch] real tokens per row (1..seq); padding follows them. */
  lengths?: Int32Array;
}

export interface ClassificationBatch extends TokenBatch {
  /** [batch] class index per row. */
  labels: Int32Array;
}

export interface LanguageModelBatch extends TokenBatch {
  /** [batch, seq] next-token targets, −1 where ignored (padding). */
  targets: Int32Array;
}

/** Checks a batch against a model: ids fill [batch, seq], seq fits the positional table, ids fit the vocabulary. */
export function checkTokenBatch(batch: TokenBatch, config: TransformerConfig): void {
  const { ids, seq } = batch;
  if (!Number.isInteger(batch.batch) || batch.batch < 1 || !Number.isInteger(seq) || seq < 1) {
    throw new ShapeError(`batch: batch and seq must be positive integers, got batch=${batch.batch}, seq=${seq}`);
  }
  if (seq > config.seq) {
    throw new ConfigError(`batch.seq must be at most the model's sequence length ${config.seq}, got ${seq}`);
  }
  if (ids.length !== batch.batch * seq) {
    throw new ShapeError(`batch: ${ids.length} token ids do not fill [batch=${batch.batch}, seq=${seq}]`);
  }
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id < config.vocab)) {
      throw new ConfigError(`batch.ids[${i}] = ${id} is outside the model's vocabulary of ${config.vocab} tokens (0..${config.vocab - 1})`);
    }
  }
  if (batch.lengths) {
    if (batch.lengths.length !== batch.batch) throw new ShapeError(`batch: ${batch.lengths.length} lengths for ${batch.batch} rows`);
    batch.lengths.forEach((length, row) => {
      if (!(length >= 1 && length <= seq)) throw new ShapeError(`batch.lengths[${row}] must be in 1..${seq}, got ${length}`);
    });
  }
}

/** True when some row is shorter than seq (so bidirectional attention must mask keys). */
export function hasPadding(batch: TokenBatch): boolean {
  return batch.lengths !== undefined && batch.lengths.some((length) => length < batch.seq);
}

/** Next-token targets for a batch: targets[b, t] = ids[b, t + 1] while t + 1 < length, else −1. */
export function nextTokenTargets(batch: TokenBatch): Int32Array {
  const { ids, seq } = batch;
  const targets = new Int32Array(ids.length).fill(-1);
  for (let b = 0; b < batch.batch; b++) {
    const length = batch.lengths ? batch.lengths[b]! : seq;
    for (let t = 0; t + 1 < length; t++) targets[b * seq + t] = ids[b * seq + t + 1]!;
  }
  return targets;
}
