/** createEstimator's validation and the registry (bad input must name the field, the value and what is allowed). */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { coefficient, createEstimator, listPresets, option, optionSpecs, registerPart, registerPreset, type ZoOptimizer } from '../../src/zo/index.ts';

describe('createEstimator', () => {
  it('resolves preset defaults with their sources and applies overrides (numeric strings too)', () => {
    const lozo = createEstimator('lozo', { eps: '0.01', queries: 2 });
    expect(lozo.options).toMatchObject({ rank: 2, interval: 50, eps: 0.01, queries: 2, lr: 3e-5, weightDecay: 0 });
    expect(lozo.optionSources).toMatchObject({ rank: 'preset', eps: 'override', weightDecay: 'default' });
    expect(lozo.parts.perturbation.name).toBe('lowRank');
    const swapped = createEstimator('mezo', { optimizer: 'adam', beta1: 0.8 });
    expect(swapped.parts.optimizer.name).toBe('adam');
    expect(swapped.options.beta1).toBe(0.8);
  });

  it('rejects unknown methods, parts and options, listing the known ones', () => {
    expect(() => createEstimator('mezzo')).toThrow(/estimator method must be one of mezo, .*lozo-m.*, got "mezzo"/);
    expect(() => createEstimator('mezo', { perturbation: 'uniform' })).toThrow(/estimator\.perturbation must be one of gaussian, lowRank, rademacher, sphere.*got "uniform"/);
    expect(() => createEstimator('mezo', { rank: 2 })).toThrow(/estimator option "rank" is not known for method mezo .*known: .*eps/);
  });

  it('rejects bad values with the field and the value', () => {
    expect(() => createEstimator('mezo', { eps: 0 })).toThrow(ConfigError);
    expect(() => createEstimator('mezo', { eps: -1e-3 })).toThrow('estimator.eps must be a positive finite number, got -0.001');
    expect(() => createEstimator('mezo', { queries: 0 })).toThrow('estimator.queries must be a positive integer, got 0');
    expect(() => createEstimator('mezo', { queries: 1.5 })).toThrow('estimator.queries must be a positive integer, got 1.5');
    expect(() => createEstimator('lozo', { rank: 0 })).toThrow('estimator.rank must be a positive integer, got 0');
    expect(() => createEstimator('lozo-m', { beta: 1 })).toThrow('estimator.beta must be in [0, 1), got 1');
    expect(() => createEstimator('mezo', { lr: 'fast' })).toThrow('estimator.lr must be a number, got "fast"');
  });

  it('rejects incompatible compositions', () => {
    expect(() => createEstimator('lozo-m', { perturbation: 'gaussian' })).toThrow(/lowRankMomentum needs a low-rank perturbation, got perturbation "gaussian"/);
    expect(() => createEstimator('zo-sgd-cons', { weightDecay: 0.1 })).toThrow('estimator.weightDecay must be 0 for the conservative optimizer, got 0.1');
  });

  it('every preset builds, names its parts, and documents every option it sets', () => {
    const names = listPresets().map((p) => p.name);
    for (const required of ['mezo', 'zo-sgd', 'zo-sgd-sign', 'zo-sgd-mmt', 'zo-sgd-cons', 'zo-adam', 'lozo', 'lozo-m']) expect(names).toContain(required);
    for (const preset of listPresets()) {
      const estimator = createEstimator(preset.name);
      const specs = optionSpecs(estimator.parts);
      for (const [name, entry] of Object.entries(preset.defaults)) {
        expect(specs[name], `${preset.name}.${name}`).toBeDefined();
        expect(entry.source.length).toBeGreaterThan(0);
      }
      expect(preset.reference.length).toBeGreaterThan(0);
    }
  });

  it('refuses to register a preset twice or one with unknown parts', () => {
    expect(() => registerPreset({ ...listPresets()[0]! })).toThrow(/already registered/);
    expect(() =>
      registerPreset({ name: 'broken', description: '', reference: '', parts: { perturbation: 'gaussian', schedule: 'fixed', difference: 'central', optimizer: 'nope' }, defaults: {} }),
    ).toThrow(/preset broken: optimizer must be one of/);
  });
});

describe('option names: one namespace per composition', () => {
  /** A stateless optimizer declaring `names` (each a coefficient with default 0.5). */
  function declaring(name: string, names: readonly string[]): ZoOptimizer<null> {
    return {
      kind: 'optimizer', name, description: 'test', options: Object.fromEntries(names.map((n) => [n, option(0.5, coefficient, 'test', 'test')])),
      init: () => null, update: async (_ctx, state) => ({ state }), dispose: () => {},
    };
  }

  it('a part may not redeclare a common option', () => {
    expect(() => registerPart(declaring('lrTest', ['lr']))).toThrow('optimizer lrTest declares "lr", an option every estimator already has; read it from ctx.options instead');
  });

  it('two parts declaring the same name cannot be composed, in a preset or by an override', () => {
    registerPart(declaring('rankTest', ['rank']));
    expect(() =>
      registerPreset({ name: 'clash-test', description: '', reference: 'test', parts: { perturbation: 'lowRank', schedule: 'fixed', difference: 'central', optimizer: 'rankTest' }, defaults: {} }),
    ).toThrow('option "rank" of optimizer rankTest is already declared by perturbation lowRank; parts of one estimator need distinct option names');
    expect(() => createEstimator('lozo', { optimizer: 'rankTest' })).toThrow(/option "rank" of optimizer rankTest is already declared by perturbation lowRank/);
  });

  it('each part sees its own options and the common ones only', () => {
    const estimator = createEstimator('lozo-m', { beta: 0.8 });
    expect(estimator.partOptions.optimizer).toEqual({ lr: 3e-5, eps: 1e-3, weightDecay: 0, beta: 0.8 });
    expect(estimator.partOptions.perturbation).toEqual({ lr: 3e-5, eps: 1e-3, weightDecay: 0, rank: 2, interval: 50 });
    expect(estimator.partOptions.schedule).toEqual({ lr: 3e-5, eps: 1e-3, weightDecay: 0, queries: 1 });
  });
});
