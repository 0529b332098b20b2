/**
 * Every default of the GaLore path, in one place, with where it comes from. "galore.md" is
 * shared/reference/galore.md; "code" is repo jiaweizzhao/GaLore at 2cc66f8.
 */

/** GaLore projector defaults (galore.md §2.3, §7: GaLoreProjector class / HF Trainer). */
export const GALORE_DEFAULTS = {
  /**
   * r when none is given: a quarter of each projected matrix's smaller side, ⌊min(m, n)/4⌋ (≥ 1) —
   * the ratio of the paper's pretraining recipes (r / d_model 60M: 128 / 512, 350M: 256 / 1024,
   * 1B: 512 / 2048; galore.md §4.2, Table 2). A fixed r (the HF Trainer's 128, galore.md §7) would be full rank, no saving, for a
   * model as small as zolo's tiny (min(m, n) = 128).
   */
  rankFraction: 0.25,
  /** T = update_proj_gap: 200 (GaLoreProjector class, HF Trainer, all pretraining recipes; galore.md §2.3, §2.8). */
  updateGap: 200,
  /** α = scale: 0.25 (paper App. C.1 pretraining recipes and HF Trainer; galore.md §2.6). */
  scale: 0.25,
  /** proj_type 'std': shrink the smaller side (galore.md §2.2). */
  projectionType: 'std',
  /** target modules: names containing "attn" or "mlp" (torchrun_main.py; galore.md §2.8). zolo's groups map to these. */
  targetModules: 'attention+mlp',
} as const;

/** The default GaLore rank of an m×n matrix: ⌊min(m, n) · rankFraction⌋, at least 1. */
export function defaultGaLoreRank(rows: number, cols: number): number {
  return Math.max(1, Math.floor(Math.min(rows, cols) * GALORE_DEFAULTS.rankFraction));
}

/** The rule above in words, for `zolo config --print` and help texts. */
export const DEFAULT_GALORE_RANK_RULE = 'floor(min(m, n) / 4), at least 1, of each projected m×n matrix';

/** Randomized range finder (Halko, Martinsson & Tropp 2011, Alg. 4.4): p = 10 oversampling, q = 2 power iterations are their recommended defaults (§4.2, §4.5). */
export const RANDOMIZED_SVD_DEFAULTS = {
  oversampling: 10,
  powerIterations: 2,
  seed: 0x9a10e,
} as const;

/**
 * AdamW of `zolo run` and GaLore, as in GaLoreAdamW (HF legacy AdamW copy; galore.md §2.4): eps 1e-6
 * in code, 1e-8 in the paper text (galore.md §10); decay on every trained tensor (§2.7).
 */
export const ADAMW_DEFAULTS = {
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-6,
  weightDecay: 0,
} as const;

/**
 * torch.optim.AdamW's defaults (β (0.9, 0.999), ε 1e-8, λ 0.01; Kingma & Ba arXiv 1412.6980 §2),
 * with decay on matrices only as nanoGPT's configure_optimizers: `zolo check`'s trajectory AdamW.
 */
export const TORCH_ADAMW_DEFAULTS = {
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0.01,
  decayMatricesOnly: true,
} as const;

/** bitsandbytes 8-bit blockwise Adam (Dettmers et al. 2022; galore.md §3.1): block 2048, 32-bit state below 4096 elements, eps 1e-8. */
export const EIGHT_BIT_DEFAULTS = {
  blockSize: 2048,
  minQuantizedSize: 4096,
  eps: 1e-8,
} as const;

/**
 * Adafactor (Shazeer & Stern 2018, Alg. 4/5 and §7 defaults; the same values as HF/GaLore adafactor.py):
 * ε1 = 1e-30 (regulariser of the squared gradient), ε2 = 1e-3 (floor of the parameter RMS in the
 * relative step), d = 1 (update clipping threshold), β̂2_t = 1 − t^(−0.8) (decayRate −0.8),
 * relative step ρ_t = min(1e-2, 1/√t) with warmup-init off, β1 off by default (the GaLore paper's
 * Fig. 3 runs it with β1 = 0.9).
 */
export const ADAFACTOR_DEFAULTS = {
  eps1: 1e-30,
  eps2: 1e-3,
  clipThreshold: 1,
  decayRate: -0.8,
  beta1: null as number | null,
  relativeStep: true,
  scaleParameter: true,
} as const;

/**
 * ReLoRA (Lialin et al. 2023). At each restart zolo zeroes the optimizer state completely (ReLoRA
 * prunes 99% of it by magnitude); see src/galore/lora.ts.
 */
export const RELORA_DEFAULTS = {
  /** K: ReLoRA merges and restarts every 5,000 steps in its 1.3B runs; zolo's runs are shorter, so set K. */
  resetEvery: 5000,
  /** steps of linear lr re-warmup after each restart (ReLoRA's "jagged" schedule re-warms over 100 steps). */
  rewarmupSteps: 100,
} as const;

/**
 * Adaptive update gap (zolo's extension, not in the paper): refresh when the captured fraction
 * ‖PᵀG‖²/‖G‖² falls below threshold × the fraction captured right after the last refresh.
 */
export const ADAPTIVE_GAP_DEFAULTS = {
  threshold: 0.5,
  checkEvery: 10,
  /** never go longer than this without a refresh (the paper's T range 50–1000 tops out at 1000; Sec. 4.1). */
  maxGap: 1000,
} as const;

/**
 * Fine-tuning learning rates, the default of `zolo run` for each backprop method: AdamW, GaLore-AdamW
 * and its 8-bit variant chosen on validation by benchmarks/suites/fidelity-lr.json (each bracketed by
 * a worse value on both sides); 8-bit AdamW takes AdamW's value, the Adafactor variants keep the
 * value that learns the task in the demo's 30 steps (not grid-searched). Adafactor's relative step
 * ignores the lr unless `relativeStep` is off.
 */
export const FINE_TUNING_LR = {
  adamw: 1e-3,
  adamw8bit: 1e-3,
  adafactor: 1e-3,
  'galore-adamw': 3e-4,
  'galore-adamw8bit': 1e-3,
  'galore-adafactor': 1e-3,
  lora: 3e-3,
  relora: 3e-3,
} as const;
