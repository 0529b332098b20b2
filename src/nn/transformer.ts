/**
 * The shared trunk of both models: token embedding + learned positional embedding → pre-LN
 * blocks → final layer norm. h = ln_f(blocks(tok[ids] + pos[0..T−1])), [B, T, d].
 * Parameters, in registration order: tok.weight [vocab, d], pos.weight [seq, d], blocks.i.*, ln_f.*.
 */
import type { Param, ParamStore } from '../tensor/params.ts';
import type { Engine, Tensor } from '../tensor/tensor.ts';
import { type TokenBatch, hasPadding } from './batch.ts';
import { Block } from './block.ts';
import type { TransformerConfig } from './config.ts';
import * as F from './functional.ts';
import type { InitStreams } from './init.ts';
import { activeTape } from './tape.ts';
import { LayerNorm } from './layerNorm.ts';

/** Added to attention scores of padded keys; exp(−1e9·α) underflows to exactly 0 in float32. */
const MASKED_SCORE = -1e9;

const positionCache = new Map<number, Int32Array>();
function positions(seq: number): Int32Array {
  let ids = positionCache.get(seq);
  if (!ids) {
    ids = Int32Array.from({ length: seq }, (_, t) => t);
    positionCache.set(seq, ids);
  }
  return ids;
}

export class Transformer {
  readonly tok: Param;
  readonly pos: Param;
  readonly blocks: Block[] = [];
  readonly lnF: LayerNorm;

  constructor(store: ParamStore, readonly config: TransformerConfig, init: InitStreams, readonly causal: boolean) {
    const { vocab, dModel, seq, layers, initStd } = config;
    this.tok = store.add('tok.weight', 'embedding', [vocab, dModel], init.normal(initStd)(vocab * dModel));
    this.pos = store.add('pos.weight', 'embedding', [seq, dModel], init.normal(initStd)(seq * dModel));
    for (let i = 0; i < layers; i++) this.blocks.push(new Block(store, `blocks.${i}`, config, init, causal));
    this.lnF = new LayerNorm(store, 'ln_f', dModel, init, config.layerNormEps);
  }

  /**
   * Final hidden states [B, T, d]. Each block runs in its own engine scope, so without a tape only
   * the residual stream and one block's intermediates are live at a time.
   */
  hidden(engine: Engine, batch: TokenBatch): Tensor {
    const { seq } = batch;
    const tokens = F.embedding(this.tok.tensor, batch.ids, [batch.batch, seq]);
    let x = F.add(tokens, F.embedding(this.pos.tensor, positions(seq), [seq]));
    const keyBias = !this.causal && hasPadding(batch) ? this.keyPaddingBias(engine, batch) : undefined;
    for (const block of this.blocks) {
      const input = x;
      x = engine.scope(() => block.forward(input, keyBias));
      // without a tape nothing holds the previous residual stream any more
      if (!activeTape()) (input.base ?? input).dispose();
    }
    return this.lnF.forward(x);
  }

  /** [B, 1, 1, T]: 0 for real keys, MASKED_SCORE for padding (bidirectional attention only). */
  private keyPaddingBias(engine: Engine, batch: TokenBatch): Tensor {
    const values = new Float32Array(batch.batch * batch.seq);
    for (let b = 0; b < batch.batch; b++) values.fill(MASKED_SCORE, b * batch.seq + batch.lengths![b]!, (b + 1) * batch.seq);
    return engine.fromArray(values, [batch.batch, 1, 1, batch.seq], 'activation');
  }
}
