/**
 * Causal language-modelling batches from e-mail text. Every message is encoded as
 * [bos] tokens… [eos] and the messages are packed, in split order, into one token stream that is
 * cut into non-overlapping windows of seq + 1 tokens. Window w gives
 *   ids[t]     = stream[w·seq + t]        t = 0 … seq−1
 *   targets[t] = stream[w·seq + t + 1]    (next-token prediction: targets are ids shifted by one)
 * The final window is padded with `pad`; padded positions get target IGNORE_INDEX (−1).
 */
import { ConfigError, assertPositiveInteger } from '../errors.ts';
import { BatchSampler, IGNORE_INDEX, chunk, epochOrder } from './batching.ts';
import { SPECIAL_IDS, type Tokenizer } from './tokenizer.ts';

export interface LmBatch {
  /** [batch, seq] input token ids */
  ids: Int32Array;
  /** [batch, seq] next-token targets, IGNORE_INDEX where padded */
  targets: Int32Array;
  batch: number;
  seq: number;
}

/** [bos] text [eos] for every text, concatenated. */
export function packTokens(tokenizer: Tokenizer, texts: Iterable<string>): Int32Array {
  const ids: number[] = [];
  for (const text of texts) {
    ids.push(SPECIAL_IDS.bos);
    for (const id of tokenizer.encode(text)) ids.push(id);
    ids.push(SPECIAL_IDS.eos);
  }
  return Int32Array.from(ids);
}

export class LmTask {
  /** number of windows of seq + 1 tokens (sharing one boundary token) */
  readonly windowCount: number;

  constructor(
    readonly stream: Int32Array,
    readonly seq: number,
  ) {
    assertPositiveInteger('seq', seq);
    if (stream.length < 2) throw new ConfigError(`LM token stream must hold at least 2 tokens, got ${stream.length}`);
    this.windowCount = Math.ceil((stream.length - 1) / seq);
  }

  static fromTexts(tokenizer: Tokenizer, texts: Iterable<string>, seq: number): LmTask {
    return new LmTask(packTokens(tokenizer, texts), seq);
  }

  /** Number of predicted (non-ignored) tokens in the whole stream. */
  get targetCount(): number {
    return this.stream.length - 1;
  }

  batchOf(windows: readonly number[]): LmBatch {
    const { seq, stream } = this;
    const ids = new Int32Array(windows.length * seq).fill(SPECIAL_IDS.pad);
    const targets = new Int32Array(windows.length * seq).fill(IGNORE_INDEX);
    windows.forEach((w, row) => {
      if (!(Number.isInteger(w) && w >= 0 && w < this.windowCount)) {
        throw new ConfigError(`LM window index must be in [0, ${this.windowCount}), got ${w}`);
      }
      const start = w * seq;
      for (let t = 0; t < seq && start + t + 1 < stream.length; t++) {
        ids[row * seq + t] = stream[start + t]!;
        targets[row * seq + t] = stream[start + t + 1]!;
      }
    });
    return { ids, targets, batch: windows.length, seq };
  }

  /** Endless seeded training stream; call `sampler.indicesAt(step)` via `batchAt`. */
  sampler(batchSize: number, seed: number): { batchAt(step: number): LmBatch; batchesPerEpoch: number } {
    const sampler = new BatchSampler(this.windowCount, batchSize, seed);
    return { batchAt: (step) => this.batchOf(sampler.indicesAt(step)), batchesPerEpoch: sampler.batchesPerEpoch };
  }

  /** One epoch in the seeded order of `sampler(batchSize, seed)` (same batches), ragged tail dropped unless `keepLast`. */
  *epoch(batchSize: number, seed: number, epoch: number, keepLast = false): Generator<LmBatch> {
    for (const windows of chunk(epochOrder(this.windowCount, seed, epoch), batchSize, !keepLast)) yield this.batchOf(windows);
  }

  /** Every window once, in order (the last batch may be smaller): for evaluation. */
  *evalBatches(batchSize: number, maxWindows = Infinity): Generator<LmBatch> {
    const count = Math.min(this.windowCount, maxWindows);
    const order = Array.from({ length: count }, (_, i) => i);
    for (const windows of chunk(order, batchSize, false)) yield this.batchOf(windows);
  }
}

/**
 * The unigram baseline: perplexity on `evalTask`'s targets of the add-one-smoothed token
 * frequencies of `trainStream`, exp(−mean log p(target)). A language model that learned nothing
 * beyond token frequencies scores this.
 */
export function unigramPerplexity(trainStream: Int32Array, evalTask: LmTask, vocabSize: number, maxWindows = Infinity): number {
  const counts = new Float64Array(vocabSize).fill(1);
  for (const id of trainStream) counts[id]! += 1;
  const total = counts.reduce((a, b) => a + b, 0);
  let nll = 0;
  let n = 0;
  for (const batch of evalTask.evalBatches(256, maxWindows)) {
    for (const target of batch.targets) {
      if (target === IGNORE_INDEX) continue;
      nll -= Math.log(counts[target]! / total);
      n++;
    }
  }
  return Math.exp(nll / n);
}
