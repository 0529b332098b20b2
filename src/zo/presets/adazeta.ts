/**
 * AdaZeta (Yang et al., EMNLP 2024, arXiv:2406.18060; yifanycc/AdaZeta): MeZO-style ZO-SGD — Gaussian
 * directions regenerated from seeds, central difference averaged over Q queries — over the
 * tensorized-adapter parameters only, with the adaptive query schedule
 * (src/zo/schedules/adaptiveQueries.ts). Spec adazeta-tensortrain.md §1.3–1.6.
 *
 * "Adapter parameters only" is a property of the parameter store, not of the estimator: attach
 * the TT adapters first (`attachAdapters(model, ADAZETA_ADAPTERS)` in src/nn/adapters), which
 * freezes the base and leaves only group 'adapter' trainable; the estimator perturbs exactly
 * `store.trainable()`.
 */
import { TT_ADAPTER_DEFAULTS } from '../../nn/adapters/ttAdapter.ts';
import type { TTAdapterSpec } from '../../nn/adapters/attach.ts';
import type { Preset } from '../types.ts';

const script = 'AdaZeta large_models/run_all_large_exp.sh, Llama-2-7B [C]';

/** The adapters AdaZeta trains: TT adapters after attn.proj and mlp.fc2 (Houlsby placement, spec §1.2). */
export const ADAZETA_ADAPTERS: TTAdapterSpec = { kind: 'tt', ...TT_ADAPTER_DEFAULTS };

export const adazeta: Preset = {
  name: 'adazeta',
  description: 'AdaZeta: ZO-SGD over tensor-train adapters only, Gaussian central difference averaged over an adaptive, capped query count',
  reference: 'Yang et al. 2024, arXiv:2406.18060 (EMNLP 2024); yifanycc/AdaZeta large_models/trainer_adazeta.py',
  parts: { perturbation: 'gaussian', schedule: 'adaptive', difference: 'central', optimizer: 'sgd' },
  defaults: {
    lr: { value: 3e-2, source: `learns the e-mail task (benchmarks/suites/demo.json); ${script}: 1e-4` },
    eps: { value: 1e-3, source: script },
    weightDecay: { value: 0.01, source: script },
  },
  notes: [
    'perturbs only trainable parameters: attach ADAZETA_ADAPTERS (TT adapters, group adapter) before creating the estimator',
    'weight decay by tensor rank: TT cores (3-D) decay, adapter biases (1-D) do not — the same tensors as the code\'s name rule',
    'the runner should set stepsPerEpoch = ⌈train/batch⌉ and totalEpochs = steps·batch/train (β depends on E_tot)',
    'ĝ is the mean over the Q queries (not the sum); the logged loss is L(θ+εz) of the first query',
  ],
  adapters: ADAZETA_ADAPTERS,
};
