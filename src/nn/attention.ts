/**
 * Multi-head self-attention, fused-qkv layout (as ../shared/peers/torch_peer.py Block):
 *   qkv = x·W_qkvᵀ + b_qkv                     [B, T, 3d], columns ordered (q|k|v, head, d_head)
 *   A_bh = softmax(q_bh·k_bhᵀ / √d_head [+ mask]) [B, H, T, T]   causal: keys after the query masked
 *   y = proj(concat_h A_bh·v_bh)               [B, T, d]
 * The q/k/v head split is one differentiable row gather (no permute): qkv viewed as rows of
 * d_head, row ((b·T + t)·3 + part)·H + h holds part ∈ {q, k, v} of head h at position t of row b.
 */
import type { ParamStore } from '../tensor/params.ts';
import type { Tensor } from '../tensor/tensor.ts';
import type { TransformerConfig } from './config.ts';
import * as F from './functional.ts';
import type { InitStreams } from './init.ts';
import { type FusedParts, Linear } from './linear.ts';
import { releaseUnlessTaped } from './tape.ts';

/** qkv's output slices; LoRA on the whole of it adapts q and v (MeZO App. E.5: LoRA on the query and value projections). */
const QKV_PARTS: FusedParts = { names: ['q', 'k', 'v'], wholeTarget: ['q', 'v'] };

const splitCache = new Map<string, readonly [Int32Array, Int32Array, Int32Array]>();

/** Row ids that gather q, k, v as [B, H, T, d_head] from qkv viewed as [B·T·3·H, d_head]. */
function headSplitIds(batch: number, seq: number, heads: number): readonly [Int32Array, Int32Array, Int32Array] {
  const key = `${batch}x${seq}x${heads}`;
  let ids = splitCache.get(key);
  if (!ids) {
    const parts = [0, 1, 2].map((part) => {
      const out = new Int32Array(batch * heads * seq);
      let r = 0;
      for (let b = 0; b < batch; b++) {
        for (let h = 0; h < heads; h++) {
          for (let t = 0; t < seq; t++) out[r++] = ((b * seq + t) * 3 + part) * heads + h;
        }
      }
      return out;
    });
    ids = [parts[0]!, parts[1]!, parts[2]!];
    splitCache.set(key, ids);
  }
  return ids;
}

export class SelfAttention {
  readonly qkv: Linear;
  readonly proj: Linear;
  readonly heads: number;

  constructor(store: ParamStore, readonly name: string, config: TransformerConfig, init: InitStreams, readonly causal: boolean) {
    const d = config.dModel;
    this.heads = config.heads;
    this.qkv = Linear.create(store, `${name}.qkv`, 'attention', d, 3 * d, init, config.initStd, true, QKV_PARTS);
    this.proj = Linear.create(store, `${name}.proj`, 'attention', d, d, init, config.initStd);
  }

  /**
   * x [B, T, d] → [B, T, d]. `keyBias` [B, 1, 1, T] (0 for real keys, −1e9 for padding) is added
   * to the scores before the softmax; omit it when no row is padded.
   */
  forward(x: Tensor, keyBias?: Tensor): Tensor {
    const [batch, seq, d] = x.shape as [number, number, number];
    const heads = this.heads;
    const dHead = d / heads;
    const qkv = this.qkv.forward(x);
    const rows = F.reshape(qkv, [batch * seq * 3 * heads, dHead]);
    const [qIds, kIds, vIds] = headSplitIds(batch, seq, heads);
    const headShape = [batch, heads, seq];
    const q = F.embedding(rows, qIds, headShape);
    const k = F.embedding(rows, kIds, headShape);
    const v = F.embedding(rows, vIds, headShape);
    releaseUnlessTaped(qkv);
    const raw = F.matmul(q, k, { transB: true });
    releaseUnlessTaped(q, k);
    const scores = keyBias ? F.add(raw, keyBias) : raw;
    if (scores !== raw) releaseUnlessTaped(raw);
    const weights = F.softmax(scores, { alpha: 1 / Math.sqrt(dHead), causalSeq: this.causal ? seq : undefined });
    releaseUnlessTaped(scores);
    const context = F.matmul(weights, v);
    releaseUnlessTaped(weights, v);
    const merged = F.reshape(F.permute(context, [0, 2, 1, 3]), [batch, seq, d]);
    releaseUnlessTaped(context);
    return this.proj.forward(merged);
  }
}
