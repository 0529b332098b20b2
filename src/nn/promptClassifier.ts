/**
 * Prompt-style classification as MeZO does it (arXiv 2305.17333 §3, following LM-BFF, Gao et al.
 * 2021): the input is "<text> <template>", and class c's logit is the LM's next-token logit of
 * its label word w_c at the last real position: z_c = h_last · E[w_c]. CE over the C label-word
 * logits is the loss. Only the C label rows of the output matrix (the tied embedding, or LLaMA's
 * lm_head) are multiplied, not the whole vocabulary; the values equal the full logits read at those ids.
 */
import { ConfigError } from '../errors.ts';
import type { ParamStore } from '../tensor/params.ts';
import type { Engine, Tensor } from '../tensor/tensor.ts';
import type { ClassificationBatch, TokenBatch } from './batch.ts';
import type { LanguageModel } from './languageModel.ts';
import type { TransformerConfig } from './config.ts';
import * as F from './functional.ts';
import type { Linear } from './linear.ts';
import { type Model, meanCrossEntropyOf } from './model.ts';

/** What prompt-style classification needs of a causal LM (zolo's CausalLm, a Hugging Face DecoderLm). */
export interface PromptableLm {
  readonly config: TransformerConfig;
  readonly params: ParamStore;
  readonly engine: Engine;
  /** final hidden states [B, T, d]. */
  hidden(batch: TokenBatch): Tensor;
  /** [vocab, d]: the LM's logits are h·Mᵀ. */
  outputMatrix(): Tensor;
  linears(): ReadonlyMap<string, Linear>;
}

/** Class logits [B, C] from the LM's logits of `labelTokenIds` (one id per class) at each row's last real position. */
export function promptClassLogits(lm: PromptableLm, batch: TokenBatch, labelTokenIds: Int32Array): Tensor {
  const vocab = lm.config.vocab;
  if (labelTokenIds.length < 1) throw new ConfigError('labelTokenIds must hold one token id per class, got none');
  labelTokenIds.forEach((id, c) => {
    if (!(Number.isInteger(id) && id >= 0 && id < vocab)) {
      throw new ConfigError(`labelTokenIds[${c}] = ${id} is outside the model's vocabulary of ${vocab} tokens`);
    }
  });
  return lm.engine.scope(() => {
    const h = lm.hidden(batch);
    const { seq } = batch;
    const last = new Int32Array(batch.batch);
    for (let b = 0; b < batch.batch; b++) last[b] = b * seq + (batch.lengths ? batch.lengths[b]! : seq) - 1;
    const rows = F.reshape(h, [batch.batch * seq, lm.config.dModel]);
    const hLast = F.embedding(rows, last, [batch.batch]);
    const labelRows = F.embedding(lm.outputMatrix(), labelTokenIds, [labelTokenIds.length]);
    return F.linear(hLast, labelRows);
  });
}

/** The LM plus label words, seen as a classifier (same Model interface as EncoderClassifier). */
export class PromptClassifier<L extends PromptableLm = LanguageModel> implements Model<ClassificationBatch> {
  readonly kind = 'prompt-classifier' as const;

  constructor(readonly lm: L, readonly labelTokenIds: Int32Array) {}

  get config() {
    return this.lm.config;
  }
  get params() {
    return this.lm.params;
  }
  get engine() {
    return this.lm.engine;
  }

  forward(batch: TokenBatch): Tensor {
    return promptClassLogits(this.lm, batch, this.labelTokenIds);
  }

  /** [B, d]: the final hidden states (after ln_f) averaged over each row's real positions, the frozen features a linear probe reads. */
  pooledFeatures(batch: TokenBatch): Tensor {
    return this.engine.scope(() => F.meanPool(this.lm.hidden(batch), batch.lengths));
  }

  lossTensor(batch: ClassificationBatch): Tensor {
    return this.engine.scope(() => F.crossEntropy(this.forward(batch), batch.labels));
  }

  loss(batch: ClassificationBatch): Promise<number> {
    return meanCrossEntropyOf(this.forward(batch), batch.labels);
  }

  linears(): ReadonlyMap<string, Linear> {
    return this.lm.linears();
  }
}
