/**
 * Defaults of `zolo check`, in one place. They are sized so that the whole check finishes in a few
 * minutes on the tiny model on 2 CPU cores; each says what it trades.
 */
export const CHECK_DEFAULTS = {
  /** examples in the fixed batch every check evaluates (MeZO's ZO batch is 16, Table 15 [P]). */
  batch: 16,
  /** estimates per estimator. The dimension factor's SE is ≈ √2·F/√draws for Gaussian SPSA (ĝ's norm is c²‖z‖², c²/‖g‖² ~ χ²₁), so 64 draws give ±18%. */
  draws: 64,
  /** Hutchinson probes for tr(H) (two gradients each). */
  probes: 8,
  /** Lanczos iterations for the top of the Hessian spectrum (two gradients each); extreme Ritz values converge first. */
  lanczosIterations: 12,
  /** stochastic-Lanczos-quadrature probes for tr(H₊) and tr(|H|) (`lanczosIterations` HVPs each). */
  slqProbes: 4,
  /** random directions for the gradient-Lipschitz estimate (one gradient each). */
  lipschitzDirections: 8,
  /** AdamW steps of the short training run that the low-rank and PL checks follow. */
  steps: 20,
  /** gradient snapshots along the run: steps 0, 1 and every `steps / snapshots` (so Δ = 1 and larger gaps are both seen). */
  snapshots: 4,
  /**
   * AdamW learning rate of that run. zolo's choice, not a paper's: large enough that the weights of
   * a tiny model move within 20 steps, below pretraining's 2e-3 (GaLore fine-tunes RoBERTa at 1e-5–3e-5).
   */
  lr: 1e-4,
  /** ranks r of the projectors whose captured energy and drift are reported (GaLore uses r ≪ min(m, n)). */
  ranks: [1, 2, 4, 8] as readonly number[],
  /** singular values kept per gradient in check.json and the decay plot. */
  keptSingularValues: 32,
  seed: 0,
} as const;
