import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { learningRateAt, type ScheduleSpec } from '../../src/experiment/schedule.ts';

const plain = (lrSchedule: ScheduleSpec['lrSchedule'], extra: Partial<ScheduleSpec> = {}): ScheduleSpec => ({ lrSchedule, lrWarmup: 0, lrStepEvery: 1, lrStepFactor: 0.1, ...extra });

/** η, horizon T and a step t ∈ [0, T). */
const point = fc
  .record({ lr: fc.double({ min: 1e-8, max: 10, noNaN: true }), steps: fc.integer({ min: 1, max: 100_000 }), fraction: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) })
  .map(({ lr, steps, fraction }) => ({ lr, steps, step: Math.floor(fraction * steps) }));

// Each formula is evaluated the same way as the implementation would in exact arithmetic; the
// relative tolerance 1e-12 covers a few float64 roundings of terms of size ≤ η.
const close = (actual: number, expected: number, scale: number) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(1e-12 * scale);

describe('learning-rate schedules', () => {
  test.prop([point], { seed: 11 })('constant: η_t = η', ({ lr, steps, step }) => {
    expect(learningRateAt(plain('constant'), lr, step, steps)).toBe(lr);
  });

  test.prop([point], { seed: 12 })('linear: η_t = η(1 − t/T)', ({ lr, steps, step }) => {
    close(learningRateAt(plain('linear'), lr, step, steps), lr * (1 - step / steps), lr);
  });

  test.prop([point], { seed: 13 })('cosine: η_t = η(1 + cos πt/T)/2', ({ lr, steps, step }) => {
    close(learningRateAt(plain('cosine'), lr, step, steps), (lr * (1 + Math.cos((Math.PI * step) / steps))) / 2, lr);
  });

  test.prop([point, fc.integer({ min: 1, max: 1000 }), fc.double({ min: 0.01, max: 1, noNaN: true })], { seed: 14 })(
    'step: η_t = η·γ^⌊t/k⌋',
    ({ lr, steps, step }, every, factor) => {
      close(learningRateAt(plain('step', { lrStepEvery: every, lrStepFactor: factor }), lr, step, steps), lr * factor ** Math.floor(step / every), lr);
    },
  );

  test.prop([point, fc.integer({ min: 1, max: 1000 }), fc.constantFrom('constant', 'linear', 'cosine', 'step' as const)], { seed: 15 })(
    'warm-up: η·t/w before step w, then the schedule over t − w on the horizon T − w',
    ({ lr, steps, step }, warmup, lrSchedule) => {
      const spec = plain(lrSchedule, { lrWarmup: warmup, lrStepEvery: 7, lrStepFactor: 0.5 });
      const actual = learningRateAt(spec, lr, step, steps);
      if (step < warmup) close(actual, (lr * step) / warmup, lr);
      else close(actual, learningRateAt(plain(lrSchedule, { lrStepEvery: 7, lrStepFactor: 0.5 }), lr, step - warmup, steps - warmup), lr);
    },
  );

  it('chosen points: warm-up starts at 0 and reaches η at step w; step decay drops at multiples of k', () => {
    const warm = plain('cosine', { lrWarmup: 10 });
    expect(learningRateAt(warm, 1, 0, 110)).toBe(0);
    expect(learningRateAt(warm, 1, 5, 110)).toBeCloseTo(0.5, 15);
    expect(learningRateAt(warm, 1, 10, 110)).toBe(1);
    expect(learningRateAt(warm, 1, 60, 110)).toBeCloseTo(0.5, 15);
    const decay = plain('step', { lrStepEvery: 30, lrStepFactor: 0.1 });
    expect([0, 29, 30, 59, 60].map((t) => learningRateAt(decay, 1, t, 100))).toEqual([1, 1, 0.1, 0.1, 0.1 ** 2]);
    expect(learningRateAt(plain('linear'), 2, 0, 0)).toBe(2);
  });
});
