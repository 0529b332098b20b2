/**
 * Encoder classifier (the shape of torch_peer.py's EncoderClassifier): bidirectional pre-LN
 * blocks → ln_f → mean over the real (non-padded) positions → head: logits = pool(h)·W_headᵀ + b.
 */
import { ParamStore } from '../tensor/params.ts';
import type { Engine, Tensor } from '../tensor/tensor.ts';
import { type ClassificationBatch, type TokenBatch, checkTokenBatch } from './batch.ts';
import { linearsOf } from './causalLm.ts';
import { type EncoderClassifierConfig, validateConfig } from './config.ts';
import * as F from './functional.ts';
import { initStreams } from './init.ts';
import { Linear } from './linear.ts';
import { type Model, meanCrossEntropyOf } from './model.ts';
import { Transformer } from './transformer.ts';

export class EncoderClassifier implements Model<ClassificationBatch> {
  readonly kind = 'encoder-classifier' as const;
  readonly params: ParamStore;
  readonly trunk: Transformer;
  readonly head: Linear;

  constructor(readonly engine: Engine, readonly config: EncoderClassifierConfig, readonly seed = 0) {
    validateConfig(config);
    this.params = new ParamStore(engine);
    const init = initStreams(seed);
    this.trunk = new Transformer(this.params, config, init, false);
    this.head = Linear.create(this.params, 'head', 'head', config.dModel, config.classes, init, config.initStd);
  }

  /** Class logits [B, classes]. */
  forward(batch: TokenBatch): Tensor {
    return this.engine.scope(() => this.head.forward(this.pooledFeatures(batch)));
  }

  /** [B, d]: the pooled final hidden states the head reads (the frozen features a linear probe reads). */
  pooledFeatures(batch: TokenBatch): Tensor {
    checkTokenBatch(batch, this.config);
    return this.engine.scope(() => F.meanPool(this.trunk.hidden(this.engine, batch), batch.lengths));
  }

  lossTensor(batch: ClassificationBatch): Tensor {
    return this.engine.scope(() => F.crossEntropy(this.forward(batch), batch.labels));
  }

  loss(batch: ClassificationBatch): Promise<number> {
    return meanCrossEntropyOf(this.forward(batch), batch.labels);
  }

  linears(): ReadonlyMap<string, Linear> {
    const out = linearsOf(this.trunk);
    out.set('head', this.head);
    return out;
  }
}
