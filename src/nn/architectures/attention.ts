/**
 * Causal self-attention from projected q, k, v, shared by the decoder families:
 *   A_bh = softmax(q_bh·k_bhᵀ / √D, keys after the query masked)   [B, H, T, T]
 *   y    = concat_h A_bh·v_bh                                      [B, T, H·D]
 * Heads are split by one differentiable row gather (as src/nn/attention.ts): a projection
 * [B, T, stride·D] viewed as rows of width D, head h of position t of row b is row
 * (b·T + t)·stride + offset + ⌊h / group⌋. GPT-2's fused c_attn uses offset 0, H, 2H with stride 3H;
 * grouped-query attention repeats each key/value head for `group` = H / H_kv query heads.
 * Right padding needs no key mask: the causal mask already hides later (padded) keys.
 */
import type { Tensor } from '../../tensor/tensor.ts';
import * as F from '../functional.ts';
import { releaseUnlessTaped } from '../tape.ts';

export interface HeadLayout {
  /** heads per position in the projection's rows (3H for a fused qkv, H_kv for grouped k/v). */
  stride: number;
  /** first head row of this part within a position. */
  offset?: number;
  /** query heads that share one source head (grouped-query attention). */
  group?: number;
}

const gatherCache = new Map<string, Int32Array>();

function headRowIds(batch: number, seq: number, heads: number, layout: HeadLayout): Int32Array {
  const { stride, offset = 0, group = 1 } = layout;
  const key = `${batch}x${seq}x${heads}:${stride}+${offset}/${group}`;
  let ids = gatherCache.get(key);
  if (!ids) {
    ids = new Int32Array(batch * heads * seq);
    let r = 0;
    for (let b = 0; b < batch; b++) {
      for (let h = 0; h < heads; h++) {
        for (let t = 0; t < seq; t++) ids[r++] = (b * seq + t) * stride + offset + Math.floor(h / group);
      }
    }
    gatherCache.set(key, ids);
  }
  return ids;
}

/** projected [B, T, stride·D] → [B, H, T, D] by the layout above. */
export function splitHeads(projected: Tensor, heads: number, headDim: number, layout: HeadLayout): Tensor {
  const [batch, seq] = projected.shape as [number, number, number];
  const rows = F.reshape(projected, [projected.size / headDim, headDim]);
  return F.embedding(rows, headRowIds(batch, seq, heads, layout), [batch, heads, seq]);
}

/** q, k, v [B, H, T, D] → [B, T, H·D]. */
export function causalAttention(q: Tensor, k: Tensor, v: Tensor): Tensor {
  const [batch, heads, seq, headDim] = q.shape as [number, number, number, number];
  const scores = F.matmul(q, k, { transB: true });
  const weights = F.softmax(scores, { alpha: 1 / Math.sqrt(headDim), causalSeq: seq });
  releaseUnlessTaped(scores);
  const context = F.matmul(weights, v);
  releaseUnlessTaped(weights);
  const merged = F.reshape(F.permute(context, [0, 2, 1, 3]), [batch, seq, heads * headDim]);
  releaseUnlessTaped(context);
  return merged;
}
