/**
 * LOZO and LOZO-M (Chen et al., arXiv:2410.07698; optsuite/LOZO), zo-estimators.md §3.
 * r = 2, ν = 50: large_models/run_lozo.py defaults [C]; ε = 1e-3 [C]; LOZO-M β = 0.9
 * (medium_models/lozo.sh [C]). Learning rates: the values that learn the e-mail task from
 * checkpoints/tiny (benchmarks/suites/fidelity-lr.json); the OPT-13B README grid is {1e-6, 1e-7} [C].
 * The lr follows the official code, which has no 1/r: update W ← W − η·c·U Vᵀ. The paper's
 * estimator is c·U Vᵀ / r [R], so paper lr η_paper corresponds to lr = η_paper / r here.
 */
import type { Preset } from '../types.ts';

const reference = 'Chen et al. 2024, arXiv:2410.07698 (LOZO); optsuite/LOZO';
const lowRankDefaults = {
  rank: { value: 2, source: 'LOZO large_models/run_lozo.py [C]' },
  interval: { value: 50, source: 'LOZO large_models/run_lozo.py [C]' },
  lr: { value: 3e-5, source: 'chosen on validation by benchmarks/suites/fidelity-lr.json; LOZO README grid {1e-6, 1e-7} (OPT-13B) [C]' },
  eps: { value: 1e-3, source: 'LOZO large_models/run_lozo.py and lozo.sh [C]' },
};
const lrNote = 'lr as in the official code (no 1/r): paper lr η ⇔ lr = η / r';

export const lozo: Preset = {
  name: 'lozo',
  description: 'LOZO: low-rank U Vᵀ perturbation, lazy V (every ν steps), ZO-SGD',
  reference,
  parts: { perturbation: 'lowRank', schedule: 'fixed', difference: 'central', optimizer: 'sgd' },
  defaults: lowRankDefaults,
  notes: [lrNote, 'V keyed by (run seed, window): redrawing V never shifts U (fixes the official code\'s §3.6 RNG mismatch)'],
};

export const lozoMomentum: Preset = {
  name: 'lozo-m',
  description: 'LOZO-M: LOZO with momentum N [m, r] in the low-rank space, re-projected when V changes',
  reference,
  parts: { perturbation: 'lowRank', schedule: 'fixed', difference: 'central', optimizer: 'lowRankMomentum' },
  defaults: {
    ...lowRankDefaults,
    lr: { value: 3e-5, source: 'chosen on validation by benchmarks/suites/fidelity-lr.json; LOZO README grid {1e-6, 1e-7} (OPT-13B) [C]' },
    beta: { value: 0.9, source: 'LOZO medium_models/lozo.sh [C]' },
  },
  notes: [lrNote],
};
