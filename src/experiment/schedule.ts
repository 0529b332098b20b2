/**
 * Learning-rate schedules over a horizon of T = `steps` steps, step t ∈ [0, T), with a linear
 * warm-up of w = `lrWarmup` steps (0 = none). With t' = t − w and T' = T − w, the decay after warm-up:
 *   constant: η_t = η (MeZO's setting [MeZO Table 15/16]);
 *   linear:   η_t = η·(1 − t'/T') (the fine-tuning baselines' linear decay [MeZO Table 15]);
 *   cosine:   η_t = η·(1 + cos(π t'/T'))/2;
 *   step:     η_t = η·γ^⌊t'/k⌋, γ = `lrStepFactor`, k = `lrStepEvery` (step decay).
 * Warm-up: η_t = η·t/w for t < w, rising from 0 at step 0 to η at step w; the decay starts there,
 * so without warm-up (w = 0) t' = t and the formulas are the plain ones. This is the convention of
 * the common fine-tuning recipes (Hugging Face's `get_*_schedule_with_warmup`).
 * Pure; a horizon of 0 returns η.
 */
import type { RunConfig } from './config.ts';

export type ScheduleSpec = Pick<RunConfig, 'lrSchedule' | 'lrWarmup' | 'lrStepEvery' | 'lrStepFactor'>;

export function learningRateAt(spec: ScheduleSpec, baseLr: number, step: number, steps: number): number {
  if (steps <= 0) return baseLr;
  const warmup = spec.lrWarmup;
  if (step < warmup) return (baseLr * step) / warmup;
  const sinceWarmup = step - warmup;
  const decaySteps = steps - warmup;
  switch (spec.lrSchedule) {
    case 'constant':
      return baseLr;
    case 'step':
      return baseLr * spec.lrStepFactor ** Math.floor(sinceWarmup / spec.lrStepEvery);
    case 'linear':
      return baseLr * (1 - Math.min(sinceWarmup / decaySteps, 1));
    case 'cosine':
      return (baseLr * (1 + Math.cos(Math.PI * Math.min(sinceWarmup / decaySteps, 1)))) / 2;
  }
}
