/**
 * Bits per byte of a set of texts under a causal LM, a tokenizer-independent measure of how well it
 * models them (lower is better; 8 is a uniform guess over bytes):
 *
 *   BPB = N / (ln 2 · B)
 *
 * N: the total next-token cross-entropy in nats over the texts packed as the pretraining validation
 * loss packs them — "[bos] text [eos]" per text, concatenated, cut into windows of `seq` tokens that
 * each start without earlier context (LmTask). Every target counts except [bos]: it always follows
 * [eos], so it carries nothing about the text. Each text thus contributes the nats of its own tokens
 * and of the [eos] that ends it.
 * B: the UTF-8 bytes of the texts themselves (Σ Buffer.byteLength(text, 'utf8')), no separators.
 * The byte-level tokenizer encodes every text losslessly, so N covers exactly these B bytes plus one
 * end-of-text decision per text.
 */
import { IGNORE_INDEX } from '../data/batching.ts';
import { LmTask } from '../data/lmTask.ts';
import { SPECIAL_IDS, type Tokenizer } from '../data/tokenizer.ts';
import type { LanguageModel } from '../nn/languageModel.ts';

export interface BitsPerByte {
  bitsPerByte: number;
  /** Σ next-token cross-entropy over the counted targets, in nats */
  nats: number;
  /** UTF-8 bytes of the texts */
  bytes: number;
  /** counted targets: text tokens plus one [eos] per text */
  targets: number;
}

export async function bitsPerByte(model: LanguageModel, tokenizer: Tokenizer, texts: readonly string[], batchSize = 32): Promise<BitsPerByte> {
  const task = LmTask.fromTexts(tokenizer, texts, model.config.seq);
  let nats = 0;
  let targets = 0;
  for (const batch of task.evalBatches(batchSize)) {
    const counted = batch.targets.map((target) => (target === SPECIAL_IDS.bos ? IGNORE_INDEX : target));
    const count = counted.reduce((n, target) => n + (target >= 0 ? 1 : 0), 0);
    if (count === 0) continue;
    nats += (await model.loss({ ...batch, targets: counted })) * count;
    targets += count;
  }
  const bytes = texts.reduce((n, text) => n + Buffer.byteLength(text, 'utf8'), 0);
  return { bitsPerByte: nats / (Math.LN2 * bytes), nats, bytes, targets };
}
