import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { checkNames, LR_SCHEDULES, parseRunConfig, RUN_CONFIG_KEYS, runConfigSchema } from '../../src/experiment/config.ts';
import { applySets, mergeLayers, splitAssignment, typeValue } from '../../src/experiment/overrides.ts';

fc.configureGlobal({ seed: 20261124, numRuns: 200 });

/** Valid partial configs: any subset of the fields, each with a value inside its range. */
const validConfig = fc.record(
  {
    method: fc.constantFrom('mezo', 'lozo', 'zero-shot'),
    task: fc.constantFrom('spam', 'synthetic-blobs'),
    model: fc.constantFrom('tiny', 'small', 'checkpoints/tiny/model.safetensors'),
    steps: fc.integer({ min: 0, max: 1_000_000 }),
    seed: fc.integer({ min: 0, max: 0xffffffff }),
    batchSize: fc.integer({ min: 1, max: 4096 }),
    lr: fc.oneof(fc.constant(null), fc.double({ min: 1e-12, max: 10, noNaN: true })),
    lrSchedule: fc.constantFrom(...LR_SCHEDULES),
    weightDecay: fc.oneof(fc.constant(null), fc.double({ min: 0, max: 1, noNaN: true })),
    evalInterval: fc.integer({ min: 0, max: 10_000 }),
    evalSize: fc.integer({ min: 0, max: 10_000 }),
    logInterval: fc.integer({ min: 1, max: 1000 }),
    backend: fc.constantFrom('cpu', 'gpu'),
    options: fc.dictionary(fc.constantFrom('eps', 'queries', 'rank', 'nu'), fc.oneof(fc.double({ noNaN: true }), fc.integer())),
    budget: fc.record(
      { forwardPasses: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 1e9 })), wallSeconds: fc.oneof(fc.constant(null), fc.double({ min: 0.001, max: 1e6, noNaN: true })) },
      { requiredKeys: [] },
    ),
    force: fc.boolean(),
    checkpointEvery: fc.integer({ min: 0, max: 10_000 }),
    saveWeights: fc.boolean(),
    lrWarmup: fc.integer({ min: 0, max: 10_000 }),
    lrStepEvery: fc.integer({ min: 1, max: 10_000 }),
    lrStepFactor: fc.double({ min: 1e-6, max: 1, noNaN: true }),
    trainable: fc.oneof(fc.constant(null), fc.array(fc.constantFrom('blocks.1.*', 'final_norm.*', 'head', 'embed.weight'), { minLength: 1, maxLength: 3 })),
    selectBy: fc.constantFrom(null, 'val-accuracy', 'val-loss', 'last'),
    accuracyTargets: fc.array(fc.double({ min: 0.01, max: 1, noNaN: true }), { maxLength: 4 }),
    divergeFactor: fc.oneof(fc.constant(null), fc.constant(0), fc.double({ min: 1.001, max: 1e6, noNaN: true })),
  },
  { requiredKeys: ['method'] },
  // step decay needs its interval; every other schedule ignores it
).map((input) => (input.lrSchedule === 'step' && input.lrStepEvery === undefined ? { ...input, lrStepEvery: 10 } : input));

/** One bad value per kind: [field path, bad value]. Each must be rejected with the path named. */
const invalidCases: [string[], unknown][] = [
  [['steps'], -3],
  [['steps'], 2.5],
  [['steps'], '100'],
  [['seed'], -1],
  [['seed'], 2 ** 32],
  [['batchSize'], 0],
  [['lr'], 0],
  [['lr'], -1e-3],
  [['lr'], Number.POSITIVE_INFINITY],
  [['lrSchedule'], 'exponential'],
  [['weightDecay'], -0.1],
  [['evalInterval'], -1],
  [['logInterval'], 0],
  [['checkpointEvery'], 1.5],
  [['force'], 'yes'],
  [['budget', 'forwardPasses'], 0],
  [['budget', 'wallSeconds'], -5],
  [['options'], [1, 2]],
  [['method'], ''],
  [['method'], 42],
  [['lrWarmup'], -1],
  [['lrStepFactor'], 0],
  [['lrStepFactor'], 1.5],
  [['trainable'], []],
  [['trainable'], 'blocks.1.*'],
  [['selectBy'], 'test-accuracy'],
  [['accuracyTargets'], 0.9],
  [['divergeFactor'], 0.5],
  [['divergeFactor'], -1],
];

function setPath(target: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (rest.length === 0) return { ...target, [head!]: value };
  return { ...target, [head!]: setPath((target[head!] as Record<string, unknown>) ?? {}, rest, value) };
}

describe('run config schema', () => {
  test.prop([validConfig])('accepts every in-range config and fills the defaults', (input) => {
    const config = parseRunConfig(input);
    expect(Object.keys(config).sort()).toEqual([...RUN_CONFIG_KEYS].sort());
    expect(config.method).toBe(input.method);
    if (input.steps !== undefined) expect(config.steps).toBe(input.steps);
    // idempotent: a resolved config is itself valid and resolves to itself
    expect(parseRunConfig(config)).toEqual(config);
  });

  test.prop([validConfig, fc.constantFrom(...invalidCases)])('rejects each kind of bad value, naming the field and the value', (input, [path, bad]) => {
    const attempt = (): unknown => parseRunConfig(setPath(input as Record<string, unknown>, path, bad));
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      expect(message.startsWith(`${path.join('.')} must be`)).toBe(true);
      expect(message).toContain('got ');
    }
  });

  test.prop([validConfig, fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !RUN_CONFIG_KEYS.includes(k) && !k.includes('.'))])(
    'rejects unknown keys and lists the allowed ones',
    (input, key) => {
      expect(() => parseRunConfig({ ...input, [key]: 1 })).toThrow(new RegExp(`unknown key "${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"; allowed: method`));
    },
  );

  it('says what is allowed in the message', () => {
    expect(() => parseRunConfig({ method: 'mezo', steps: -3 })).toThrow('steps must be an integer ≥ 0 (0 = evaluate only), got -3');
    expect(() => parseRunConfig({ method: 'mezo', lrSchedule: 'exp' })).toThrow('lrSchedule must be one of constant, linear, cosine, step, got "exp"');
    expect(() => parseRunConfig({ method: 'mezo', accuracyTargets: [0.8, 1.2] })).toThrow('accuracyTargets.1 must be a number in (0, 1], got 1.2');
    expect(() => parseRunConfig({ method: 'mezo', lrSchedule: 'step' })).toThrow('lrStepEvery must be an integer ≥ 1 when lrSchedule is "step", got 0');
    expect(() => parseRunConfig({ method: 'mezo', budget: { steps: 3 } })).toThrow('unknown key "budget.steps"; allowed in budget: forwardPasses, wallSeconds');
    expect(() => parseRunConfig({})).toThrow('method must be a method name (see `zolo methods`), got nothing');
  });

  it('checks method, task and backend names against the registries, listing the known ones', () => {
    const known = { methods: ['mezo', 'lozo'], tasks: ['spam'], backends: ['cpu'], checkOptions: () => {}, choosesTrainable: (method: string) => method === 'lozo' };
    expect(() => checkNames(parseRunConfig({ method: 'mezzo' }), known)).toThrow('method must be one of mezo, lozo, got "mezzo"');
    expect(() => checkNames(parseRunConfig({ method: 'mezo', backend: 'tpu' }), known)).toThrow('backend must be one of cpu, got "tpu"');
    expect(() => checkNames(parseRunConfig({ method: 'mezo', task: 'x' }), known, 'runs[1]')).toThrow('runs[1].task must be one of spam');
  });
});

describe('--set key=value', () => {
  it('types values by the schema at the dotted path', () => {
    expect(typeValue(runConfigSchema, ['steps'], '500')).toBe(500);
    expect(typeValue(runConfigSchema, ['lr'], '1e-6')).toBe(1e-6);
    expect(typeValue(runConfigSchema, ['lr'], 'null')).toBeNull();
    expect(typeValue(runConfigSchema, ['force'], 'true')).toBe(true);
    expect(typeValue(runConfigSchema, ['model'], '123')).toBe('123'); // strings stay strings
    expect(typeValue(runConfigSchema, ['budget', 'forwardPasses'], '4000')).toBe(4000);
    // pass-through records read JSON when it parses, else keep the string
    expect(typeValue(runConfigSchema, ['options', 'eps'], '1e-3')).toBe(1e-3);
    expect(typeValue(runConfigSchema, ['options', 'optimizer'], 'adam')).toBe('adam');
    expect(typeValue(runConfigSchema, ['options', 'adapters'], '{"rank":4}')).toEqual({ rank: 4 });
  });

  it('rejects malformed assignments, unknown keys and untypeable values', () => {
    expect(() => splitAssignment('steps')).toThrow('--set must look like key=value');
    expect(() => splitAssignment('a..b=1')).toThrow(ConfigError);
    expect(() => splitAssignment('=3')).toThrow(ConfigError);
    expect(() => typeValue(runConfigSchema, ['stpes'], '3')).toThrow('--set stpes: unknown key "stpes"; allowed: method');
    expect(() => typeValue(runConfigSchema, ['budget', 'steps'], '3')).toThrow('unknown key "budget.steps"; allowed: forwardPasses, wallSeconds');
    expect(() => typeValue(runConfigSchema, ['steps'], 'many')).toThrow('--set steps must be a number, got "many"');
    expect(() => typeValue(runConfigSchema, ['force'], 'yes')).toThrow('--set force must be true or false, got "yes"');
  });

  it('applies in order, keeps the value after the first "=", and merges into nested objects', () => {
    const base = mergeLayers({ method: 'mezo', options: { eps: 1e-3 }, budget: { wallSeconds: 10 } }, { options: { queries: 2 } });
    const result = applySets(runConfigSchema, base, ['steps=10', 'steps=20', 'options.eps=1e-2', 'budget.forwardPasses=400', 'out=a=b']);
    expect(result).toEqual({ method: 'mezo', steps: 20, options: { eps: 1e-2, queries: 2 }, budget: { wallSeconds: 10, forwardPasses: 400 }, out: 'a=b' });
    expect(parseRunConfig(result).budget).toEqual({ wallSeconds: 10, forwardPasses: 400 });
  });

  test.prop([fc.integer({ min: 0, max: 1_000_000 }), fc.double({ min: 1e-9, max: 1, noNaN: true })])('round-trips numbers through their string form', (steps, lr) => {
    const config = parseRunConfig(applySets(runConfigSchema, { method: 'mezo' }, [`steps=${steps}`, `lr=${lr}`]));
    expect(config.steps).toBe(steps);
    expect(config.lr).toBe(lr);
  });
});
