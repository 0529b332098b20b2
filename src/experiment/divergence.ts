/**
 * The divergence rule: a run has diverged when its training loss is non-finite, or when its smoothed
 * training loss exceeds `factor` × its first training loss (a finite blow-up: the loss climbs
 * without ever overflowing, e.g. a learning rate far too large for a bounded loss).
 *
 * Smoothing: an exponential moving average with decay β = 0.9 and Adam's bias correction,
 *   m_t = β·m_{t−1} + (1 − β)·ℓ_t,  m_0 = 0,  smoothed_t = m_t / (1 − β^t),
 * so smoothed_1 = ℓ_1 exactly and one noisy batch moves the average by at most 10 % of its excess;
 * about ten consecutive bad steps are needed to cross the line. Pure: the state is a plain value
 * the run checkpoint holds.
 */

/** β of the moving average: an effective window of 1/(1 − β) = 10 steps. */
export const LOSS_EMA_DECAY = 0.9;

export interface SmoothedLoss {
  /** m_t, the biased moving average. */
  ema: number;
  /** t, the number of losses averaged. */
  count: number;
}

export const NO_LOSSES: SmoothedLoss = { ema: 0, count: 0 };

export function addLoss(state: SmoothedLoss, loss: number): SmoothedLoss {
  return { ema: LOSS_EMA_DECAY * state.ema + (1 - LOSS_EMA_DECAY) * loss, count: state.count + 1 };
}

/** The bias-corrected average (NaN before the first loss). */
export function smoothedValue(state: SmoothedLoss): number {
  return state.ema / (1 - LOSS_EMA_DECAY ** state.count);
}

/**
 * Whether the run has diverged after `loss`, given the smoothed loss including it. `factor` 0 or
 * null turns the blow-up test off (non-finite losses still stop the run).
 */
export function hasDiverged(loss: number, smoothed: SmoothedLoss, firstLoss: number, factor: number | null): boolean {
  if (!Number.isFinite(loss)) return true;
  if (!factor) return false;
  return smoothedValue(smoothed) > factor * firstLoss;
}
