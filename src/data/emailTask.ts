/**
 * The e-mail classification task (ham = 0, spam = 1) in the two forms the models take.
 *
 * Encoder-classifier batches: [bos] text-tokens, cut to `seq` from the right (the subject comes
 * first and is kept), right-padded with `pad`; `mask` is 1 on real tokens, 0 on padding.
 *
 * Prompt-style batches (MeZO, arXiv 2305.17333 §3 / Appendix: prompt-based fine-tuning): each row is
 *   [bos] <e-mail tokens, truncated> <template suffix tokens>
 * and the class is read from the LM's logits at the last real position, restricted to one label
 * word per class. The e-mail is truncated (its end dropped) so the suffix always fits: the template
 * is never cut. Rows are right-padded; `lastPosition[i]` is where to read the logits of row i.
 * The loss MeZO minimises is cross-entropy over the label-word logits (softmax over the 2 words).
 */
import { ConfigError, assertPositiveInteger } from '../errors.ts';
import { BatchSampler, chunk, epochOrder } from './batching.ts';
import { CLASS_NAMES, type Email } from './spam.ts';
/**
 * What the task needs of a tokenizer: zolo's own (src/data/tokenizer.ts) or a Hugging Face
 * tokenizer.json wrapped by the experiment layer.
 */
export interface TaskTokenizer {
  readonly vocabSize: number;
  /** ids of `text` with no special tokens added. */
  encode(text: string): number[];
  /** the id of `text` if it is exactly one token, else undefined. */
  singleTokenId(text: string): number | undefined;
  /** prepended to every row; null for models trained without one. */
  readonly bosId: number | null;
  /** fills rows after their last real token (never attended to by a causal LM, masked for encoders). */
  readonly padId: number;
}

export interface ClassifierBatch {
  /** [batch, seq] token ids, right-padded */
  ids: Int32Array;
  /** [batch, seq] 1 on real tokens, 0 on padding */
  mask: Float32Array;
  /** [batch] class of each row (0 ham, 1 spam) */
  labels: Int32Array;
  /** [batch] number of real tokens in each row */
  lengths: Int32Array;
  batch: number;
  seq: number;
}

export interface PromptBatch extends ClassifierBatch {
  /** [batch] position whose next-token logits score the label words (lengths − 1) */
  lastPosition: Int32Array;
  /** [classes] vocabulary id of each class's label word (empty for classifier-format tasks) */
  labelTokenIds: Int32Array;
}

/** Template after the e-mail text; the LM continues it with one of the label words. */
export const DEFAULT_PROMPT_SUFFIX = ' ... This message is';
/** One word per class, each a single token of the trained tokenizer (checked at task creation). */
export const DEFAULT_LABEL_WORDS: readonly [string, string] = [' ham', ' spam'];

export type EmailTaskFormat = 'classifier' | 'prompt';
export const EMAIL_TASK_FORMATS: readonly EmailTaskFormat[] = ['classifier', 'prompt'];

export interface PromptTemplate {
  suffix: string;
  labelWords: readonly [string, string];
}

export interface EmailTaskOptions {
  seq: number;
  format: EmailTaskFormat;
  prompt?: Partial<PromptTemplate>;
}

/** Label-word token ids; a ConfigError naming the word if it is not exactly one token. */
export function labelTokenIds(tokenizer: TaskTokenizer, labelWords: readonly string[]): Int32Array {
  return Int32Array.from(
    labelWords.map((word, label) => {
      const id = tokenizer.singleTokenId(word);
      if (id === undefined) {
        throw new ConfigError(
          `prompt label word for class ${CLASS_NAMES[label] ?? label} must be a single token of the tokenizer (vocab ${tokenizer.vocabSize}), got ${JSON.stringify(word)} → ${tokenizer.encode(word).length} tokens`,
        );
      }
      return id;
    }),
  );
}

export class EmailTask {
  readonly seq: number;
  readonly format: EmailTaskFormat;
  readonly template: PromptTemplate;
  readonly labelTokenIds: Int32Array;
  private readonly suffixIds: number[];
  /** [bos], or nothing for a tokenizer without one. */
  private readonly prefixIds: number[];
  /**
   * encoded rows, each computed once on first use (the tokenizer is the slow part: a k-shot run or
   * a small evalSize encodes only the e-mails it reads)
   */
  private readonly rows: (number[] | undefined)[];
  readonly labels: Int32Array;

  constructor(
    readonly tokenizer: TaskTokenizer,
    readonly examples: readonly Email[],
    options: EmailTaskOptions,
  ) {
    this.seq = assertPositiveInteger('seq', options.seq);
    if (!EMAIL_TASK_FORMATS.includes(options.format)) {
      throw new ConfigError(`task format must be one of ${EMAIL_TASK_FORMATS.join(', ')}, got ${JSON.stringify(options.format)}`);
    }
    this.format = options.format;
    this.template = {
      suffix: options.prompt?.suffix ?? DEFAULT_PROMPT_SUFFIX,
      labelWords: options.prompt?.labelWords ?? DEFAULT_LABEL_WORDS,
    };
    this.labelTokenIds = this.format === 'prompt' ? labelTokenIds(tokenizer, this.template.labelWords) : new Int32Array(0);
    this.suffixIds = tokenizer.encode(this.template.suffix);
    this.prefixIds = tokenizer.bosId === null ? [] : [tokenizer.bosId];
    const templateLength = this.prefixIds.length + this.suffixIds.length;
    if (this.format === 'prompt' && templateLength >= this.seq) {
      throw new ConfigError(`seq must exceed the prompt template's ${templateLength} tokens ([bos] + suffix), got ${this.seq}`);
    }
    this.rows = new Array<number[] | undefined>(examples.length);
    this.labels = Int32Array.from(examples, (e) => e.label);
  }

  get size(): number {
    return this.examples.length;
  }

  /** Token ids of one e-mail in this task's format (at most seq ids). */
  encodeRow(text: string): number[] {
    const tokens = this.tokenizer.encode(text);
    if (this.format === 'classifier') return [...this.prefixIds, ...tokens].slice(0, this.seq);
    const budget = this.seq - this.prefixIds.length - this.suffixIds.length;
    return [...this.prefixIds, ...tokens.slice(0, budget), ...this.suffixIds];
  }

  /** A batch of arbitrary texts (labels unknown → −1), for `zolo predict`. */
  batchOfTexts(texts: readonly string[]): PromptBatch {
    return this.assemble(texts.map((t) => this.encodeRow(t)), new Int32Array(texts.length).fill(-1));
  }

  batchOf(indices: readonly number[]): PromptBatch {
    return this.assemble(
      indices.map((i) => {
        if (!(Number.isInteger(i) && i >= 0 && i < this.size)) throw new ConfigError(`example index must be in [0, ${this.size}), got ${i}`);
        return (this.rows[i] ??= this.encodeRow(this.examples[i]!.text));
      }),
      Int32Array.from(indices, (i) => this.labels[i]!),
    );
  }

  private assemble(rows: readonly number[][], labels: Int32Array): PromptBatch {
    const { seq } = this;
    const batch = rows.length;
    const ids = new Int32Array(batch * seq).fill(this.tokenizer.padId);
    const mask = new Float32Array(batch * seq);
    const lengths = new Int32Array(batch);
    rows.forEach((row, r) => {
      ids.set(row, r * seq);
      mask.fill(1, r * seq, r * seq + row.length);
      lengths[r] = row.length;
    });
    return { ids, mask, labels, lengths, batch, seq, lastPosition: lengths.map((n) => n - 1), labelTokenIds: this.labelTokenIds };
  }

  /** Endless seeded training stream of full batches. */
  sampler(batchSize: number, seed: number): { batchAt(step: number): PromptBatch; batchesPerEpoch: number } {
    const sampler = new BatchSampler(this.size, batchSize, seed);
    return { batchAt: (step) => this.batchOf(sampler.indicesAt(step)), batchesPerEpoch: sampler.batchesPerEpoch };
  }

  /** One epoch in the seeded order of `sampler(batchSize, seed)` (same batches), ragged tail dropped unless `keepLast`. */
  *epoch(batchSize: number, seed: number, epoch: number, keepLast = false): Generator<PromptBatch> {
    for (const indices of chunk(epochOrder(this.size, seed, epoch), batchSize, !keepLast)) yield this.batchOf(indices);
  }

  /** Every example once, in order (the last batch may be smaller): for evaluation. */
  *evalBatches(batchSize: number): Generator<PromptBatch> {
    for (const indices of chunk(Array.from({ length: this.size }, (_, i) => i), batchSize, false)) yield this.batchOf(indices);
  }
}
