/**
 * AdamW (Loshchilov & Hutter, arXiv 1711.05101, Alg. 2) as an update rule, with float32 or
 * bitsandbytes-style 8-bit moments (moments.ts; Dettmers et al. 2022). Per tensor, with its own
 * update count t (1-based, as torch keeps `state['step']` per tensor):
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
 *   u = c_t·m/(√v + ε),  c_t = √(1−β2ᵗ)/(1−β1ᵗ)          (HF / GaLore bias correction, galore.md §2.4)
 *   θ ← θ − η·u,  then θ ← θ − η·λ·θ                      (decoupled decay after the move, §2.7)
 * An unwrapped tensor takes the backend's fused `adamStep` (the same arithmetic in one pass); under
 * GaLore the rule gives u = `adamDirection` of the projected gradient. torch.optim.AdamW puts ε
 * outside the bias correction (ε·√(1−β2ᵗ) here) and decays before the step (O(η²λ) apart).
 * Defaults (defaults.ts ADAMW_DEFAULTS): the GaLore repository's (ε 1e-6, λ 0); 8-bit moments take
 * bitsandbytes' ε 1e-8. Bad input: β outside [0, 1), ε ≤ 0 → ConfigError naming options.<key>.
 */
import type { AdamSpec } from '../../kernels/backend.ts';
import { assertPositive, assertProbability, ConfigError, describeValue } from '../../errors.ts';
import type { Shape } from '../../tensor/tensor.ts';
import { ADAMW_DEFAULTS, EIGHT_BIT_DEFAULTS } from '../defaults.ts';
import { type AdamMoments, createMoments, DEFAULT_EIGHT_BIT, type EightBitOptions } from '../moments.ts';
import { eightBitPairBytes } from '../quantize8bit.ts';
import type { OptimizerOptions, RuleDefinition } from '../registry.ts';
import type { RuleContext, UpdateRule } from '../rule.ts';

export interface AdamWHyper {
  beta1: number;
  beta2: number;
  eps: number;
  /** null: float32 moments. */
  eightBit: EightBitOptions | null;
}

function eightBitFrom(value: unknown): EightBitOptions | null {
  if (value === undefined || value === false || value === null) return null;
  if (value === true) return DEFAULT_EIGHT_BIT;
  if (typeof value !== 'object') throw new ConfigError(`options.eightBit must be true or an object {blockSize, minQuantizedSize}, got ${describeValue(value)}`);
  return { ...DEFAULT_EIGHT_BIT, ...(value as Partial<EightBitOptions>) };
}

function numberOr(options: OptimizerOptions, key: 'beta1' | 'beta2' | 'eps', fallback: number): number {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new ConfigError(`options.${key} must be a number, got ${describeValue(value)}`);
  return value;
}

/** The AdamW hyper-parameters of `options` over ADAMW_DEFAULTS, validated. */
export function resolveAdamW(options: OptimizerOptions): AdamWHyper {
  const eightBit = eightBitFrom(options.eightBit);
  // bitsandbytes' 8-bit Adam defaults to ε 1e-8 (galore.md §3.1), GaLoreAdamW to 1e-6 (§2.4)
  return {
    beta1: assertProbability('options.beta1', numberOr(options, 'beta1', ADAMW_DEFAULTS.beta1)),
    beta2: assertProbability('options.beta2', numberOr(options, 'beta2', ADAMW_DEFAULTS.beta2)),
    eps: assertPositive('options.eps', numberOr(options, 'eps', eightBit ? EIGHT_BIT_DEFAULTS.eps : ADAMW_DEFAULTS.eps)),
    eightBit,
  };
}

export function adamwRule(hyper: AdamWHyper): UpdateRule<AdamMoments> {
  const spec = (ctx: RuleContext, weightDecay: number): AdamSpec => ({
    lr: ctx.lr, beta1: hyper.beta1, beta2: hyper.beta2, eps: hyper.eps, weightDecay, step: ctx.step,
  });
  return {
    name: 'adamw',
    decayBeforeUpdate: false,
    // moments are allocated at a tensor's first update, in the shape its gradients come in (§2.4)
    init: (engine, shape) => createMoments(engine, shape, hyper.eightBit),
    async update(grad, moments, ctx) {
      const direction = ctx.engine.zeros(grad.shape, 'workspace');
      await moments.direction(grad, direction, spec(ctx, 0));
      return { direction, stepSize: ctx.lr, decayLr: ctx.lr, release: () => direction.dispose() };
    },
    async updateInPlace(grad, moments, ctx, weightDecay) {
      await moments.stepInPlace(ctx.param.tensor, grad, spec(ctx, weightDecay));
      return true;
    },
    reset: (moments) => moments.reset(),
    stateBytes: (moments) => moments.bytes,
    save: async (moments) => ({ tensors: await moments.save() }),
    load: (moments, saved) => moments.load(saved.tensors),
    dispose: (moments) => moments.dispose(),
  };
}

export const adamw: RuleDefinition = {
  name: 'adamw',
  description: 'AdamW: Adam moments, decoupled weight decay',
  reference: 'Loshchilov & Hutter, arXiv:1711.05101, Alg. 2; HF/GaLore bias correction (galore.md §2.4)',
  defaultLr: ADAMW_DEFAULTS.lr,
  defaultWeightDecay: ADAMW_DEFAULTS.weightDecay,
  options: { beta1: 'number', beta2: 'number', eps: 'number', eightBit: Object.keys(DEFAULT_EIGHT_BIT) },
  create: (options) => adamwRule(resolveAdamW(options)),
  stateSize(shape: Shape, elementBytes, options) {
    const elements = shape.reduce((a, b) => a * b, 1);
    const eightBit = eightBitFrom(options.eightBit);
    const bytes = eightBit ? eightBitPairBytes(elements, eightBit.blockSize, eightBit.minQuantizedSize) : 2 * elementBytes * elements;
    return { moments: 2 * elements, factored: 0, bytes };
  },
};
