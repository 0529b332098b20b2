/**
 * The interface every model offers to estimators, optimizers and experiments. DESIGN.md: the ZO
 * path only calls `loss` (forward, no tape); the backprop path runs `lossTensor` under a tape.
 */
import { crossEntropyRowValues, meanOfRowLosses } from '../tensor/ops.ts';
import type { ParamStore } from '../tensor/params.ts';
import type { Engine, Tensor } from '../tensor/tensor.ts';
import type { TokenBatch } from './batch.ts';
import type { TransformerConfig } from './config.ts';
import type { Linear } from './linear.ts';

export const MODEL_KINDS = ['causal-lm', 'encoder-classifier'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export interface Model<TBatch extends TokenBatch> {
  readonly kind: ModelKind | 'prompt-classifier';
  readonly config: TransformerConfig;
  readonly params: ParamStore;
  readonly engine: Engine;
  /** Logits (differentiable; records on an active tape). The caller disposes the result. */
  forward(batch: TBatch): Tensor;
  /** Scalar mean cross-entropy (shape []), built from differentiable ops: use under a tape. */
  lossTensor(batch: TBatch): Tensor;
  /**
   * Mean cross-entropy as a host number, inference only: every intermediate is freed before it
   * returns and nothing is recorded (the ZO estimators' loss closure).
   */
  loss(batch: TBatch): Promise<number>;
  /** Every Linear by module path ('blocks.0.attn.qkv', …), where adapters attach. */
  linears(): ReadonlyMap<string, Linear>;
}

/** Frees a tensor's buffer, whether it is a view or the owner. */
export function release(tensor: Tensor): void {
  (tensor.base ?? tensor).dispose();
}

/** Mean CE of freshly computed logits against targets, read to the host; frees the logits. */
export async function meanCrossEntropyOf(logits: Tensor, targets: Int32Array): Promise<number> {
  return meanOfRowLosses(await rowCrossEntropiesOf(logits, targets), targets);
}

/** Per-row CE of freshly computed logits against targets, read to the host; frees the logits. */
export async function rowCrossEntropiesOf(logits: Tensor, targets: Int32Array): Promise<Float32Array> {
  try {
    return await crossEntropyRowValues(logits, targets);
  } finally {
    release(logits);
  }
}
