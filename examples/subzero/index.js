// @ts-check
/**
 * The SubZero plug-in: importing this module registers the `subzero` perturbation and the `subzero`
 * preset (that perturbation × one query × central difference × ZO-SGD, the paper's Algorithm 1 with
 * SGD), so `zolo run --plugin <this file> --method subzero` runs it by name. Everything comes from
 * the public `zolo` API; README.md beside this file says how to build, run and test it.
 */
import { registerPart, registerPreset } from 'zolo';
import { subspacePerturbation } from './subspacePerturbation.js';

registerPart(subspacePerturbation);
registerPreset({
  name: 'subzero',
  description: 'SubZero: ZO-SGD with layer-wise random-subspace perturbations (orthonormal U, V redrawn every T steps, r×r Gaussian core per query)',
  reference: 'Yu et al., "Zeroth-Order Fine-Tuning of LLMs in Random Subspaces", arXiv:2410.08989 (ICCV 2025); github.com/zimingyy/SubZero',
  parts: { perturbation: 'subzero', schedule: 'fixed', difference: 'central', optimizer: 'sgd' },
  defaults: {
    lr: { value: 3e-5, source: 'chosen on validation by benchmarks/suites/fidelity-lr.json from {1e-5, 3e-5, 1e-4, 3e-4} (8,000 forward passes on the e-mail task from checkpoints/tiny); the official README uses 1e-3 for OPT-1.3B prompt tuning' },
  },
  notes: [
    'Z = (√(mn)/r)·U Σ Vᵀ: the official code\'s scale, so E‖Z‖² = mn as for MeZO\'s z and MeZO\'s ε and lr carry over',
    'U, V keyed by (run seed, ⌊t/T⌋): resumed and replayed runs rebuild them; 1-D tensors get Gaussian z',
  ],
});
