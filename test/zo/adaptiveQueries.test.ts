import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { createEstimator, getPart, getPreset } from '../../src/zo/index.ts';
import {
  ADAZETA_SCHEDULE_DEFAULTS, adaptiveExponent, adaptiveQueries, queriesAtEpoch, validateAdaptiveQueries,
} from '../../src/zo/schedules/adaptiveQueries.ts';

const RUNS = { seed: 20261124, numRuns: 200 };
const defaults = ADAZETA_SCHEDULE_DEFAULTS;

const configArb = fc
  .record({
    scale: fc.double({ min: 0.05, max: 5, noNaN: true }),
    target: fc.integer({ min: 1, max: 64 }),
    maxQueries: fc.integer({ min: 1, max: 32 }),
    totalEpochs: fc.double({ min: 1.5, max: 1000, noNaN: true }),
    useTarget: fc.constant(false),
  })
  .filter((config) => config.target > config.scale);

describe("AdaZeta's adaptive query schedule (spec §1.4, §3.17–19)", () => {
  test('hand-computed values for the released defaults (α 0.85, NUM 20, Q_max 15, E_tot 160)', () => {
    // β = ln(20/0.85)/ln(160) = 3.158251/5.075174 = 0.6222942
    expect(adaptiveExponent(0.85, 20, 160)).toBeCloseTo(0.62229419, 7);
    const q = Array.from({ length: 160 }, (_, e) => queriesAtEpoch(e, defaults));
    expect(q.slice(0, 4)).toEqual([1, 1, 1, 1]);
    expect(q.slice(4, 8)).toEqual([2, 2, 2, 2]); // 0.85·4^β = 2.014
    expect(q.slice(8, 13)).toEqual([3, 3, 3, 3, 3]); // 0.85·8^β = 3.100
    expect(q.slice(13, 18)).toEqual([4, 4, 4, 4, 4]);
    expect(q[18]).toBe(5);
    expect(q[100]).toBe(14); // 0.85·100^β = 14.93
    expect(q.indexOf(15)).toBe(101); // 0.85·101^β = 15.02
    expect(q.slice(101).every((v) => v === 15)).toBe(true);
    // mean ≈ 11 queries per step ≈ 22 forward passes (spec §1.4)
    expect(q.reduce((a, b) => a + b) / q.length).toBeCloseTo(11.0125, 4);
  });

  test.prop([configArb], RUNS)('integer, 1 ≤ Q(e) ≤ Q_max, non-decreasing in e, Q(0) = 1', (config) => {
    let previous = 0;
    expect(queriesAtEpoch(0, config)).toBe(1);
    for (let e = 0; e <= Math.ceil(config.totalEpochs) + 5; e++) {
      const q = queriesAtEpoch(e, config);
      expect(Number.isInteger(q)).toBe(true);
      expect(q).toBeGreaterThanOrEqual(Math.max(previous, 1));
      expect(q).toBeLessThanOrEqual(config.maxQueries);
      previous = q;
    }
  });

  test.prop([configArb], RUNS)('β makes α·E_tot^β = NUM to 1e−12 (not asserting ⌊·⌋ = NUM: float pitfall §1.4)', (config) => {
    const beta = adaptiveExponent(config.scale, config.target, config.totalEpochs);
    expect(Math.abs(config.scale * config.totalEpochs ** beta - config.target)).toBeLessThan(1e-12 * config.target);
  });

  test('the float pitfall: uncapped Q(E_tot) is NUM or NUM − 1 (0.85·100^β = 19.999… ⇒ 19)', () => {
    expect(queriesAtEpoch(100, { ...defaults, totalEpochs: 100, maxQueries: 100 })).toBe(19);
    for (const totalEpochs of [100, 159, 160, 500]) {
      expect([19, 20]).toContain(queriesAtEpoch(totalEpochs, { ...defaults, totalEpochs, maxQueries: 100 }));
    }
  });

  test('a run shorter than one epoch (E_tot ≤ 1) takes the β → ∞ limit: Q = 1 in epochs 0 and 1, Q_max after', () => {
    for (const totalEpochs of [0, 0.5, 1]) {
      expect(adaptiveExponent(0.85, 20, totalEpochs)).toBe(Infinity);
      expect([0, 1, 2, 7].map((e) => queriesAtEpoch(e, { ...defaults, totalEpochs }))).toEqual([1, 1, 15, 15]);
    }
    expect(() => createEstimator('adazeta', { totalEpochs: 0 })).not.toThrow(); // evaluation-only runs
  });

  test('useTarget (--use_num) gives Q ≡ NUM', () => {
    for (const e of [0, 1, 50, 1000]) expect(queriesAtEpoch(e, { ...defaults, useTarget: true })).toBe(20);
  });

  test('as a part: constant within an epoch, from the caller\'s epoch or ⌊step/stepsPerEpoch⌋', () => {
    const part = getPart('schedule', 'adaptive');
    expect(part).toBe(adaptiveQueries);
    const options = { queryScale: 0.85, queryTarget: 20, maxQueries: 15, totalEpochs: 160, stepsPerEpoch: 0, useTarget: 0 };
    const state = part.init(options);
    const byCaller = (step: number, epoch: number) => part.queries(state, { step, epoch }, options).queries;
    expect([byCaller(0, 4), byCaller(999, 4), byCaller(5, 101)]).toEqual([2, 2, 15]);
    const perEpoch = { ...options, stepsPerEpoch: 63 }; // HF loop: ⌈1000/16⌉ steps per epoch
    const byStep = (step: number) => part.queries(state, { step, epoch: 0 }, perEpoch).queries;
    expect([byStep(0), byStep(251), byStep(252), byStep(503), byStep(504), byStep(63 * 101)]).toEqual([1, 1, 2, 2, 3, 15]);
  });

  test('bad options are ConfigErrors naming the field', () => {
    expect(() => validateAdaptiveQueries({ ...defaults, totalEpochs: -1 })).toThrow(/totalEpochs \(E_tot\) must be a finite number ≥ 0, got -1/);
    expect(() => validateAdaptiveQueries({ ...defaults, scale: 0 })).toThrow(ConfigError);
    expect(() => validateAdaptiveQueries({ ...defaults, scale: 25 })).toThrow(/queryTarget \(NUM\) must exceed queryScale \(α\)/);
    expect(() => validateAdaptiveQueries({ ...defaults, maxQueries: 2.5 })).toThrow(/maxQueries \(Q_max\) must be a positive integer, got 2\.5/);
    expect(() => createEstimator('adazeta', { maxQueries: 0 })).toThrow(/estimator\.maxQueries must be a positive integer, got 0/);
    expect(() => createEstimator('adazeta', { useTarget: 2 })).toThrow(/estimator\.useTarget must be 0 or 1, got 2/);
  });

  test('the adazeta and mezo-lora presets carry the spec defaults (lr: the value measured on the e-mail task)', () => {
    const adazeta = createEstimator('adazeta');
    expect(adazeta.parts.schedule.name).toBe('adaptive');
    expect(adazeta.parts.perturbation.name).toBe('gaussian');
    expect(adazeta.parts.difference.name).toBe('central');
    expect(adazeta.options).toMatchObject({ lr: 3e-2, eps: 1e-3, weightDecay: 0.01, queryScale: 0.85, queryTarget: 20, maxQueries: 15, totalEpochs: 160 });
    const lora = createEstimator('mezo-lora');
    expect(lora.options).toMatchObject({ lr: 1e-3, eps: 1e-2, weightDecay: 0, queries: 1 });
    expect(getPreset('mezo-lora').parts.schedule).toBe('fixed');
    // the fixed-q ablation swaps the schedule part by name
    expect(createEstimator('adazeta', { schedule: 'fixed', queries: 4 }).options.queries).toBe(4);
  });
});
