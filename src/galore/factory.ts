/**
 * Optimizers of the backprop path by name — what `zolo run --method …` and
 * `zolo pretrain --optimizer …` resolve. Every one is a ParamOptimizer (stepParam for per-layer
 * mode, step for a normal step). 'adamw' here is GaLoreAdamW without projection: the same fused
 * `adamStep` kernel as plain AdamW, HF-style bias correction, decoupled decay after the update.
 */
import { ConfigError } from '../kernels/errors.ts';
import type { AdaptableModel } from '../nn/adapters/attach.ts';
import type { LoraOptions } from '../nn/adapters/lora.ts';
import { type Param, ParamStore } from '../tensor/params.ts';
import { Adafactor, type AdafactorHyper } from './adafactor.ts';
import { type AdamHyper, GaLoreAdamW, type GaLoreSettings } from './galoreAdamW.ts';
import { LoraOptimizer, type ReLoraSettings } from './lora.ts';
import type { EightBitOptions } from './moments.ts';
import type { ParamOptimizer } from './optimizer.ts';

export const OPTIMIZER_NAMES = [
  'adamw', 'adamw8bit', 'adafactor', 'galore-adamw', 'galore-adamw8bit', 'galore-adafactor', 'lora', 'relora',
] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export interface OptimizerOptions extends Partial<AdamHyper> {
  /** GaLore settings (rank, updateGap, scale, type, svd, targetModules, adaptive, …) for galore-*. */
  galore?: GaLoreSettings;
  /** block size / 32-bit threshold for the 8-bit variants. */
  eightBit?: Partial<EightBitOptions>;
  /** Adafactor settings (relativeStep, beta1, …) for adafactor and galore-adafactor. */
  adafactor?: Partial<AdafactorHyper>;
  /** lora / relora: the model to put adapters on (required), adapter shape, restart settings. */
  model?: AdaptableModel;
  lora?: Partial<LoraOptions>;
  relora?: Partial<ReLoraSettings>;
  seed?: number;
  /** AdamW family: decay only ≥ 2-axis tensors (B's AdamW / nanoGPT) instead of every parameter (reference). */
  decayMatricesOnly?: boolean;
}

export function isOptimizerName(name: string): name is OptimizerName {
  return (OPTIMIZER_NAMES as readonly string[]).includes(name);
}

/**
 * Builds optimizer `name` over the trainable parameters of `params`. lora/relora insert adapters
 * into `options.model` (freezing its weights) and train only those, so they ignore `params`.
 */
export function createOptimizer(name: string, params: ParamStore | readonly Param[], options: OptimizerOptions = {}): ParamOptimizer {
  if (!isOptimizerName(name)) throw new ConfigError(`optimizer must be one of ${OPTIMIZER_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  const list = params instanceof ParamStore ? params.all() : params;
  const engine = params instanceof ParamStore ? params.engine : list[0]?.tensor.engine;
  if (!engine) throw new ConfigError(`optimizer ${name}: no parameters given`);
  const adam = {
    lr: options.lr, beta1: options.beta1, beta2: options.beta2, eps: options.eps, weightDecay: options.weightDecay,
    decayMatricesOnly: options.decayMatricesOnly,
  };
  switch (name) {
    case 'adamw':
      return new GaLoreAdamW(engine, list, { ...adam, name });
    case 'adamw8bit':
      return new GaLoreAdamW(engine, list, { ...adam, eightBit: options.eightBit ?? true, name });
    case 'galore-adamw':
      return new GaLoreAdamW(engine, list, { ...adam, galore: options.galore ?? {}, name });
    case 'galore-adamw8bit':
      return new GaLoreAdamW(engine, list, { ...adam, galore: options.galore ?? {}, eightBit: options.eightBit ?? true, name });
    case 'adafactor':
    case 'galore-adafactor':
      return new Adafactor(engine, list, {
        lr: options.lr, weightDecay: options.weightDecay, ...options.adafactor,
        galore: name === 'galore-adafactor' ? options.galore ?? {} : null, name,
      });
    case 'lora':
    case 'relora': {
      if (!options.model) throw new ConfigError(`optimizer ${name} needs options.model (the model to attach LoRA adapters to)`);
      return new LoraOptimizer(engine, options.model, {
        ...adam, lora: options.lora, relora: name === 'relora' ? options.relora ?? {} : null, seed: options.seed,
      });
    }
  }
}

/** The optimizers `zolo pretrain --optimizer` gets from here (pretrain keeps its own plain AdamW). */
export const PRETRAIN_OPTIMIZER_NAMES = OPTIMIZER_NAMES.filter((name) => name !== 'adamw');

export interface PretrainingHyper {
  lr: number;
  weightDecay: number;
  galore?: GaLoreSettings;
  lora?: Partial<LoraOptions>;
  relora?: Partial<ReLoraSettings>;
}

/**
 * For pretraining zolo's presets: GaLore rank r = d/4 of the smallest attention/MLP matrix side
 * unless given (the paper's pretraining ratios: 60M 128/512, 7B 1024/4096; the HF default 128 would
 * be full rank for tiny's d = 128), T = 200, α = 0.25 (galore.md §2.8), and decay on matrices only
 * (as pretrain's AdamW does, so the comparison differs only in the optimizer).
 */
export function createPretrainingOptimizer(name: string, model: AdaptableModel, hyper: PretrainingHyper): ParamOptimizer {
  const params = model.params.trainable();
  const matrices = params.filter((p) => p.tensor.shape.length === 2 && (p.group === 'attention' || p.group === 'mlp'));
  const side = Math.min(...matrices.map((p) => Math.min(p.tensor.shape[0]!, p.tensor.shape[1]!)));
  const rank = Number.isFinite(side) ? Math.max(1, Math.floor(side / 4)) : undefined;
  return createOptimizer(name, params, {
    lr: hyper.lr, weightDecay: hyper.weightDecay, decayMatricesOnly: true, galore: { rank, ...hyper.galore },
    model, ...(hyper.lora ? { lora: hyper.lora } : {}), ...(hyper.relora ? { relora: hyper.relora } : {}),
  });
}
