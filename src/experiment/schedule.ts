/**
 * Learning-rate schedules over a horizon of `steps` steps, step t ∈ [0, steps):
 *   constant: η_t = η (MeZO's setting [MeZO Table 15/16]);
 *   linear:   η_t = η·(1 − t/steps) (the fine-tuning baselines' linear decay [MeZO Table 15]);
 *   cosine:   η_t = η·(1 + cos(π t/steps))/2.
 * Pure; a horizon of 0 returns η.
 */
import type { RunConfig } from './config.ts';

export function learningRateAt(schedule: RunConfig['lrSchedule'], baseLr: number, step: number, steps: number): number {
  if (steps <= 0 || schedule === 'constant') return baseLr;
  const progress = Math.min(step / steps, 1);
  if (schedule === 'linear') return baseLr * (1 - progress);
  return (baseLr * (1 + Math.cos(Math.PI * progress))) / 2;
}
