/**
 * MeZO-LoRA (Malladi et al., arXiv:2305.17333, App. E.5): MeZO over LoRA factors only (r = 8, α = 16
 * on the query and value projections), the comparison AdaZeta reports against. Defaults from the OPT
 * MeZO-LoRA grid, zo-estimators.md §2.1 (MeZO Table 16 [P]): ε = 1e-2, λ = 0, q = 1; the paper's lr grid
 * {1e-4, 5e-5} barely moves LoRA factors of a 1M-parameter model, so the default lr is the one chosen on validation (1e-3). (AdaZeta's own Llama script uses ε = 1e-3 for its MeZO-LoRA baseline, spec §1.6.)
 */
import { LORA_DEFAULTS } from '../../nn/adapters/lora.ts';
import type { LoraAdapterSpec } from '../../nn/adapters/attach.ts';
import type { Preset } from '../types.ts';

const table = 'MeZO Table 16, OPT MeZO-LoRA grid [P]';

export const MEZO_LORA_ADAPTERS: LoraAdapterSpec = { kind: 'lora', ...LORA_DEFAULTS };

export const mezoLora: Preset = {
  name: 'mezo-lora',
  description: 'MeZO-LoRA: MeZO (SPSA, Gaussian, seed trick, ZO-SGD) over LoRA factors on q and v only',
  reference: 'Malladi et al. 2023, arXiv:2305.17333, App. E.5 and Table 16',
  parts: { perturbation: 'gaussian', schedule: 'fixed', difference: 'central', optimizer: 'sgd' },
  defaults: {
    lr: { value: 1e-3, source: `chosen on validation by benchmarks/suites/fidelity-lr.json; ${table}: {1e-4, 5e-5}` },
    eps: { value: 1e-2, source: table },
  },
  notes: ['perturbs only trainable parameters: attach MEZO_LORA_ADAPTERS (LoRA r 8, α 16 on q and v, group adapter) first'],
  adapters: MEZO_LORA_ADAPTERS,
};

