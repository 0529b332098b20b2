/**
 * What the pretrained decoder families share: parameters registered under their Hugging Face
 * names, the Linear modules adapters attach to (named by each architecture's projection list),
 * and the Model interface (forward / lossTensor / loss). Each family writes only its forward pass,
 * top to bottom, from the differentiable ops, so the ZO path (forward only) and the backprop path
 * (the same forward under a tape) both work.
 */
import { ConfigError } from '../../errors.ts';
import { type ParamGroup, ParamStore } from '../../tensor/params.ts';
import type { Engine, Tensor } from '../../tensor/tensor.ts';
import { type LanguageModelBatch, type TokenBatch, checkTokenBatch } from '../batch.ts';
import { type FusedParts, Linear } from '../linear.ts';
import { lmLogits, lmLoss, lmLossTensor } from '../lmObjective.ts';
import type { Model } from '../model.ts';
import type { DecoderConfig, DecoderFamily } from './config.ts';

export interface ParamSpec {
  /** the Hugging Face state-dict name, e.g. 'model.layers.0.self_attn.q_proj.weight'. */
  name: string;
  /** shape in zolo (Linear weights [out, in]). */
  shape: readonly number[];
  group: ParamGroup;
  /** stored [in, out] in Hugging Face files (GPT-2's Conv1D); transposed on load and save. */
  transposedInFile?: boolean;
}

export interface Architecture {
  readonly family: DecoderFamily;
  /**
   * Projection modules inside block i, relative to `blockPrefix(i)` (e.g. 'self_attn.q_proj'):
   * what LoRA, GaLore and tensor-train adapters target. Each has `.weight` [out, in] and maybe `.bias`.
   */
  readonly projections: readonly string[];
  /** projections whose output is fused slices (GPT-2's c_attn: q | k | v), which adapter targets can name one by one. */
  readonly fusedParts?: Readonly<Record<string, FusedParts>>;
  blockPrefix(layer: number): string;
  /** the token embedding [vocab, d], which is also the output matrix when the head is tied. */
  readonly tokenEmbedding: string;
  /** every parameter the model has for this config, in registration order. */
  parameters(config: DecoderConfig): ParamSpec[];
  /** the model, with parameter values by name (zolo layout; the loader has checked every shape). */
  create(engine: Engine, config: DecoderConfig, values: ReadonlyMap<string, Float32Array>): DecoderLm;
}

const positionCache = new Map<string, Int32Array>();
/** ids offset, offset + 1, …, offset + seq − 1 (learned position rows). */
export function positionIds(seq: number, offset = 0): Int32Array {
  const key = `${seq}+${offset}`;
  let ids = positionCache.get(key);
  if (!ids) {
    ids = Int32Array.from({ length: seq }, (_, t) => t + offset);
    positionCache.set(key, ids);
  }
  return ids;
}

export abstract class DecoderLm implements Model<LanguageModelBatch> {
  readonly kind = 'causal-lm' as const;
  readonly params: ParamStore;
  private readonly modules = new Map<string, Linear>();

  constructor(readonly engine: Engine, readonly config: DecoderConfig, readonly architecture: Architecture, values: ReadonlyMap<string, Float32Array>) {
    this.params = new ParamStore(engine);
    for (const spec of architecture.parameters(config)) {
      const value = values.get(spec.name);
      if (!value) throw new ConfigError(`${config.family}: no value given for parameter "${spec.name}"`);
      this.params.add(spec.name, spec.group, spec.shape, value);
    }
    for (let layer = 0; layer < config.layers; layer++) {
      for (const projection of architecture.projections) {
        const path = `${architecture.blockPrefix(layer)}.${projection}`;
        const bias = this.params.has(`${path}.bias`) ? this.params.get(`${path}.bias`) : null;
        this.modules.set(path, new Linear(path, this.params.get(`${path}.weight`), bias, architecture.fusedParts?.[projection] ?? null));
      }
    }
  }

  /** The parameter tensor called `name`. */
  protected weight(name: string): Tensor {
    return this.params.tensor(name);
  }

  /** The projection module at `path` (adapters attached to it run in forward). */
  protected linear(path: string): Linear {
    return this.modules.get(path)!;
  }

  /** Final hidden states [B, T, d] (after the last norm), built from differentiable ops. */
  protected abstract finalHidden(batch: TokenBatch): Tensor;

  /** Final hidden states [B, T, d]; what prompt-style classifiers read. */
  hidden(batch: TokenBatch): Tensor {
    checkTokenBatch(batch, this.config);
    return this.engine.scope(() => this.finalHidden(batch));
  }

  /** [vocab, d]: logits = h·Mᵀ (the token embedding when tied, else lm_head). */
  outputMatrix(): Tensor {
    return this.weight(this.config.tiedEmbeddings ? this.architecture.tokenEmbedding : 'lm_head.weight');
  }

  /** Next-token logits [B, T, vocab]. */
  forward(batch: TokenBatch): Tensor {
    return lmLogits(this, batch);
  }

  lossTensor(batch: LanguageModelBatch): Tensor {
    return lmLossTensor(this, batch);
  }

  loss(batch: LanguageModelBatch): Promise<number> {
    return lmLoss(this, batch);
  }

  linears(): ReadonlyMap<string, Linear> {
    return this.modules;
  }
}
