/**
 * MeZO (Malladi et al., arXiv:2305.17333; princeton-nlp/MeZO large_models/trainer.py) and its
 * distribution variants. Defaults are the paper's full-parameter settings (zo-estimators.md §2.1):
 * ε = 1e-3, λ = 0, q = 1, constant lr. The default lr, 1e-4, is the one chosen on validation for the
 * e-mail task from checkpoints/tiny (benchmarks/suites/fidelity-lr.json); the paper's OPT grid
 * {1e-6, 1e-7} (Table 16) was tuned for 350M–66B-parameter models and barely moves a 1M-parameter one.
 */
import type { Preset } from '../types.ts';

const parts = { perturbation: 'gaussian', schedule: 'fixed', difference: 'central', optimizer: 'sgd' };

export const mezo: Preset = {
  name: 'mezo',
  description: 'MeZO: SPSA central difference, Gaussian z regenerated in place (seed trick), ZO-SGD',
  reference: 'Malladi et al. 2023, arXiv:2305.17333, Algorithm 1; princeton-nlp/MeZO',
  parts,
  defaults: {},
  notes: [
    'weight decay by tensor rank (ndim < 2 ⇒ none) instead of the code\'s name rule (bias/layer_norm/layernorm)',
    'queries > 1 averages the q estimates (n-SPSA, Def. 1); the lr is not scaled by q',
  ],
};

export const mezoSphere: Preset = {
  name: 'mezo-sphere',
  description: 'MeZO with z uniform on the √d-sphere (the distribution of the paper\'s §4 theory)',
  reference: 'Malladi et al. 2023, §4 Lemma 2',
  parts: { ...parts, perturbation: 'sphere' },
  defaults: {},
};

export const mezoRademacher: Preset = {
  name: 'mezo-rademacher',
  description: 'MeZO with Rademacher (±1) directions; one transient buffer per tensor',
  reference: 'SPSA with Bernoulli ±1 directions (Spall 1992)',
  parts: { ...parts, perturbation: 'rademacher' },
  defaults: {},
};
