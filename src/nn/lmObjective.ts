/**
 * The language-model objective shared by every causal LM (zolo's own and the Hugging Face decoder
 * families): logits = h·Mᵀ from the final hidden states h [B, T, d] and the output matrix M
 * [vocab, d] (the tied token embedding or an lm_head), and the mean next-token cross-entropy.
 */
import type { Engine, Tensor } from '../tensor/tensor.ts';
import type { LanguageModelBatch, TokenBatch } from './batch.ts';
import * as F from './functional.ts';
import { meanCrossEntropyOf } from './model.ts';

export interface HiddenAndOutput {
  readonly engine: Engine;
  hidden(batch: TokenBatch): Tensor;
  outputMatrix(): Tensor;
}

/** Next-token logits [B, T, vocab]. */
export function lmLogits(lm: HiddenAndOutput, batch: TokenBatch): Tensor {
  return lm.engine.scope(() => F.linear(lm.hidden(batch), lm.outputMatrix()));
}

/** Scalar mean cross-entropy (differentiable; use under a tape). */
export function lmLossTensor(lm: HiddenAndOutput, batch: LanguageModelBatch): Tensor {
  return lm.engine.scope(() => F.crossEntropy(lmLogits(lm, batch), batch.targets));
}

/** Mean cross-entropy as a host number, inference only. */
export function lmLoss(lm: HiddenAndOutput, batch: LanguageModelBatch): Promise<number> {
  return meanCrossEntropyOf(lmLogits(lm, batch), batch.targets);
}
