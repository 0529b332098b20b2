/**
 * The backprop optimizer registry: one list read at call time by `zolo run` (methods), `zolo
 * pretrain`, `zolo memory`, `zolo methods` and the config checks; a rule registered after import is
 * a method of all of them; duplicate names are refused; a non-finite value inside an optimizer marks
 * the run diverged instead of aborting it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backpropListings } from '../../src/cli/methods.ts';
import { pretrainOptimizerNames } from '../../src/cli/pretrain.ts';
import { ConfigError, DivergenceError } from '../../src/errors.ts';
import '../../src/experiment/builtins.ts';
import { parseRunConfig } from '../../src/experiment/config.ts';
import { methodAdapter, registeredMethods } from '../../src/experiment/method.ts';
import { memoryMethods } from '../../src/experiment/methodMemory.ts';
import { runExperiment } from '../../src/experiment/runner.ts';
import { checkOptimizerOptions, registerBackpropOptimizer, type RuleDefinition } from '../../src/galore/index.ts';
import { architectureByName, estimateMemory } from '../../src/galore/memory.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-backprop-registry-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Sign descent, u = sign(g): a rule in one object, stateless; `options.signSgd.divergeAt` makes update t non-finite. */
const signSgd: RuleDefinition = {
  name: 'signSgd',
  description: 'sign descent: θ ← θ − η·sign(g)',
  reference: 'test rule',
  defaultLr: 0.05,
  defaultWeightDecay: 0,
  options: { signSgd: ['divergeAt'] },
  create(options) {
    const divergeAt = (options.signSgd as { divergeAt?: number } | undefined)?.divergeAt ?? Infinity;
    return {
      name: 'signSgd',
      decayBeforeUpdate: false,
      init: () => null,
      async update(grad, _state, ctx) {
        if (ctx.step >= divergeAt) throw new DivergenceError(`signSgd: update ${ctx.step} of "${ctx.param.name}" is not finite`, ctx.step - 1);
        const direction = ctx.engine.zeros(grad.shape, 'workspace');
        ctx.engine.backend.unary('sign', grad.buffer, direction.buffer);
        return { direction, stepSize: ctx.lr, decayLr: ctx.lr, release: () => direction.dispose() };
      },
      reset: () => {},
      stateBytes: () => 0,
      save: async () => ({ tensors: {} }),
      load: () => {},
      dispose: () => {},
    };
  },
  stateSize: () => ({ moments: 0, factored: 0, bytes: 0 }),
};

registerBackpropOptimizer({ name: 'sign-sgd-test', rule: signSgd });

const blobs = (overrides: Record<string, unknown>) =>
  parseRunConfig({ backend: 'cpu', task: 'synthetic-blobs', model: 'linear', steps: 6, evalInterval: 3, checkpointEvery: 1, ...overrides });

describe('backprop optimizer registry', () => {
  it('a rule registered after import is a method for run, methods, memory, pretrain and the option checks', async () => {
    expect(registeredMethods()).toContain('sign-sgd-test');
    expect(methodAdapter('sign-sgd-test')).toMatchObject({ family: 'backprop', defaultLr: 0.05 });
    expect(backpropListings().find((m) => m.name === 'sign-sgd-test')).toMatchObject({ rule: 'signSgd', options: ['signSgd', 'perLayer'] });
    expect(memoryMethods()).toContain('sign-sgd-test');
    expect(estimateMemory(architectureByName('tiny'), 'sign-sgd-test').bytes.optimizerState).toBe(0);
    expect(pretrainOptimizerNames()).toContain('sign-sgd-test');
    expect(() => checkOptimizerOptions('sign-sgd-test', { signSgd: { divergeAfter: 2 } })).toThrow('unknown key "options.signSgd.divergeAfter"; allowed in options.signSgd: divergeAt');
    const { summary } = await runExperiment(blobs({ method: 'sign-sgd-test', out: join(root, 'sign') }));
    expect(summary).toMatchObject({ status: 'completed', steps: 6 });
  });

  it('refuses a name registered twice', () => {
    expect(() => registerBackpropOptimizer({ name: 'sign-sgd-test', rule: signSgd })).toThrow(new ConfigError('a backprop optimizer named "sign-sgd-test" is already registered'));
    expect(() => registerBackpropOptimizer({ name: 'adamw', rule: signSgd })).toThrow(/"adamw" is already registered/);
  });

  for (const perLayer of [false, true]) {
    it(`a non-finite value inside the optimizer marks the run diverged at that step instead of aborting it${perLayer ? ' (per-layer)' : ''}`, async () => {
      const config = blobs({ method: 'sign-sgd-test', options: { signSgd: { divergeAt: 4 }, perLayer }, out: join(root, `diverge-${perLayer}`) });
      const { summary } = await runExperiment(config);
      // updates 1–3 land in steps 0–2; update 4 (step 3) diverges
      expect(summary).toMatchObject({ status: 'diverged', divergedAtStep: 3, stoppedBy: 'divergence' });
    });
  }
});
