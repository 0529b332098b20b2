/**
 * AdaLomo (Lv et al., arXiv:2310.10195, Findings of ACL 2024; code OpenLMLab/LOMO adalomo.py): LOMO's
 * fused backward — each parameter is updated inside the backward pass as soon as its gradient is
 * complete, and that gradient is freed at once, so no gradient buffer of the model ever exists —
 * with an adaptive learning rate from Adafactor's factored second moment. Per tensor θ with
 * gradient G at update t (the paper's Algorithm 1; §3.2 non-negative factorisation, §3.3 grouped
 * update normalization):
 *   β2,t = 1 − t^c,  c = −0.8
 *   R_t = β2,t R + (1−β2,t)(G² + ε1)1,  C_t = β2,t C + (1−β2,t)1ᵀ(G² + ε1),  V̂ = R_t C_t / (1ᵀR_t)
 *   U = G / √V̂                                   (vectors keep the full V)
 *   Û = U / max(1, RMS(U)/d)                      grouped update normalization, d = 1, per parameter
 *   η_t = η · max(ε2, RMS(θ))                     the lr relative to the parameter's own scale
 *   θ ← (1 − η_t λ)θ − η_t Û
 * with ε1 = 1e-30, ε2 = 1e-3 (the code's `eps` default). That is Adafactor without relative step
 * and without β1 (rules/adafactor.ts computes it, once); what AdaLomo adds is where it runs: only
 * from the tape's per-parameter hook (`fusedBackward`), with the ledger's gradient peak the
 * gradients in flight (about one parameter's) instead of the model's. The code's loss scaling and
 * its two-pass global gradient-norm clipping serve fp16 training and are not part of the update;
 * the paper (App. A) finds the grouped normalization makes the clipping unnecessary.
 */
import type { RuleDefinition } from '../registry.ts';
import { adafactorRule, adafactorStateSize, resolveAdafactor } from './adafactor.ts';

/** The settings AdaLomo fixes (OpenLMLab/LOMO adalomo.py defaults) and the ones `options.adalomo` may change. */
const ADALOMO_FIXED = { beta1: null, relativeStep: false, scaleParameter: true } as const;
const ADALOMO_DEFAULTS = { eps1: 1e-30, eps2: 1e-3, clipThreshold: 1, decayRate: -0.8 } as const;

export const adalomo: RuleDefinition = {
  name: 'adalomo',
  description: 'AdaLomo: LOMO\'s fused backward update with a factored second moment and grouped update normalization',
  reference: 'Lv et al. 2024, arXiv:2310.10195, Alg. 1; OpenLMLab/LOMO adalomo.py',
  // benchmarks/suites/fidelity-lr.json chose 1e-3 on the e-mail task (98.2 % validation; 3e-3–3e-2 tied at
  // 97.9 %, 3e-4 96.4 %), which is also OpenLMLab/LOMO's default for 7B–65B LLaMA
  defaultLr: 1e-3,
  defaultWeightDecay: 0,
  options: { adalomo: Object.keys(ADALOMO_DEFAULTS) },
  fusedBackward: true,
  create: (options) => adafactorRule(resolveAdafactor({ ...ADALOMO_DEFAULTS, ...(options.adalomo as object | undefined), ...ADALOMO_FIXED }, 'adalomo')),
  stateSize: (shape, elementBytes) => adafactorStateSize(shape, elementBytes, false),
};
