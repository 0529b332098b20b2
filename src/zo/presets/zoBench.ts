/**
 * The ZO-Bench optimizer family (Zhang et al., arXiv:2402.11592; ZO-Bench/ZO-LLM zo-bench/trainer.py),
 * zo-estimators.md §4.1. All share MeZO's Gaussian central-difference estimate with q = 1, ε = 1e-3
 * and λ = 0 (the sweeps). ZO-Bench publishes LR grids, not defaults: ZO-SGD {1e-4…1e-8},
 * ZO-Adam/MMT/Sign/Cons {1e-5…1e-8}. Those grids were swept on 350M–13B models; the defaults below
 * learn the e-mail task from checkpoints/tiny instead (benchmarks/suites/defaults.json runs each one).
 */
import type { Preset } from '../types.ts';

const reference = 'Zhang et al. 2024, arXiv:2402.11592 (ZO-Bench); ZO-Bench/ZO-LLM zo-bench/trainer.py';
const base = { perturbation: 'gaussian', schedule: 'fixed', difference: 'central' };
/** Defaults that learn the e-mail task from checkpoints/tiny (benchmarks/suites/defaults.json checks each); the paper's grids are kept beside them. */
const gridSource = (measured: string, grid: string): string => `${measured}; ZO-Bench sweep grid ${grid} [C]`;

export const zoSgd: Preset = {
  name: 'zo-sgd',
  description: 'ZO-SGD (zo_sgd): θ ← θ − ηĝ',
  reference,
  parts: { ...base, optimizer: 'sgd' },
  defaults: { lr: { value: 1e-4, source: gridSource('MeZO\'s lr (the same estimator and update)', '{1e-4…1e-8}') } },
};

export const zoSgdOneSided: Preset = {
  name: 'zo-sgd-one-sided',
  description: 'ZO-SGD with the one-sided difference (--perturbation_mode one_side); 2 passes per step',
  reference,
  parts: { ...base, difference: 'oneSided', optimizer: 'sgd' },
  defaults: { lr: { value: 1e-4, source: gridSource('MeZO\'s lr (the one-sided difference has the same expectation)', '{1e-4…1e-8}') } },
};

export const zoSgdSign: Preset = {
  name: 'zo-sgd-sign',
  description: 'ZO-SGD-Sign (zo_sign_opt): θ ← θ − η·sign(c)·z',
  reference,
  parts: { ...base, optimizer: 'signSgd' },
  defaults: { lr: { value: 1e-3, source: gridSource('best validation accuracy of {1e-4, 3e-4, 1e-3, 3e-3} at 1,000 steps on the e-mail task from checkpoints/tiny (benchmarks/suites/zo-sgd-sign-lr.json): a sign step ignores |c|, which is large early, so it needs a larger lr than MeZO\'s', '{1e-5…1e-8}') } },
};

export const zoSgdMomentum: Preset = {
  name: 'zo-sgd-mmt',
  description: 'ZO-SGD-MMT (zo_sgd --momentum 0.9): m ← βm + ĝ, θ ← θ − ηm; +P floats',
  reference,
  parts: { ...base, optimizer: 'momentum' },
  defaults: { lr: { value: 1e-5, source: gridSource('MeZO\'s lr × (1 − β): momentum 0.9 sums ~10 steps', '{1e-5…1e-8}') } },
};

export const zoSgdConservative: Preset = {
  name: 'zo-sgd-cons',
  description: 'ZO-SGD-Cons (zo_conserv): keep the best of θ, θ ∓ ηĝ; 5 passes per step',
  reference,
  parts: { ...base, optimizer: 'conservative' },
  defaults: { lr: { value: 1e-4, source: gridSource('MeZO\'s lr (Cons only rejects steps)', '{1e-5…1e-8}') } },
};

export const zoAdam: Preset = {
  name: 'zo-adam',
  description: 'ZO-Adam (zo_adam): Adam on ĝ; +2P floats',
  reference,
  parts: { ...base, optimizer: 'adam' },
  defaults: { lr: { value: 3e-4, source: gridSource('chosen on validation by benchmarks/suites/fidelity-lr.json', '{1e-5…1e-8}') } },
  notes: ['forward-gradient (exact JVP) is not implemented: zolo\'s kernels have no forward-mode AD'],
};
