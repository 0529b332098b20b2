/**
 * The zeroth-order family: every estimator preset registered in src/zo is a method of the same name
 * (mezo, lozo, lozo-m, adazeta, mezo-lora, zo-sgd, zo-adam, …, and presets registered by plug-ins);
 * src/experiment/method.ts builds the adapter when the name is first looked up.
 *
 * Config mapping: `options.*` go to `createEstimator(preset, overrides)` unchanged (it validates
 * them and names the field); `lr` and `weightDecay`, when set, override the preset's. The runner's
 * schedule passes the learning rate per step. `options.adapters` (an object) overrides fields of the
 * adapter spec of presets that train adapters (their `adapters` field; mezo-lora: LoRA, adazeta: TT), which are
 * attached before the estimator is built, so only adapter parameters are trainable.
 * AdaZeta's epoch-based schedule gets stepsPerEpoch = ⌊train / batch⌋ (the sampler drops the ragged
 * tail) and totalEpochs = steps / stepsPerEpoch unless the options set them.
 *
 * Log: each step appends D's zo-log step line; the step-0 line carries the header (method, parts,
 * options, seed, parameter list, `start: "start.safetensors"`), and the starting parameters are
 * saved to DIR/start.safetensors so `zolo replay DIR` can rebuild the final weights.
 */
import { checkKnownKeys, ConfigError, DivergenceError, describeValue } from '../../errors.ts';
import { attachAdapters, type AdapterSpec } from '../../nn/adapters/index.ts';
import { createEstimator, listPresets, zoLogHeader, zoLogStep, type Estimator, type EstimatorState, type Overrides, type Preset } from '../../zo/index.ts';
import type { MethodAdapter, MethodContext, TrainingMethod } from '../method.ts';
import { adapterKeys } from '../nestedOptions.ts';
import { isPlainObject } from '../overrides.ts';
import type { Workload } from '../workload.ts';

/** The adapters preset `name` trains instead of the base weights, or undefined (not a preset, or it trains the model). */
export function presetAdapters(name: string): AdapterSpec | undefined {
  return listPresets().find((preset) => preset.name === name)?.adapters;
}

/** The file the starting parameters of a ZO run are saved to, relative to the run folder. */
export const ZO_START_FILE = 'start.safetensors';

export function attachPresetAdapters(workload: Workload, base: AdapterSpec, overrides: unknown, seed: number): void {
  if (!workload.linears) throw new ConfigError('this task/model has no Linear layers to attach adapters to; use a transformer model (tiny, small or a checkpoint)');
  const spec = { ...base, ...(overrides ?? {}) } as AdapterSpec;
  attachAdapters({ params: workload.params, linears: () => workload.linears!() }, spec, seed);
}

function estimatorOverrides(options: Record<string, unknown>): Record<string, number | string | boolean> {
  const overrides: Record<string, number | string | boolean> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === 'adapters') continue;
    if (typeof value !== 'number' && typeof value !== 'string' && typeof value !== 'boolean') {
      throw new ConfigError(`options.${key} must be a number, string or boolean, got ${describeValue(value)}`);
    }
    overrides[key] = value;
  }
  return overrides;
}

function buildEstimator(name: string, context: MethodContext): Estimator {
  const overrides = estimatorOverrides(context.options);
  overrides.lr = context.lr;
  if (context.weightDecay !== null) overrides.weightDecay = context.weightDecay;
  const probe = createEstimator(name, overrides as Overrides);
  if ('stepsPerEpoch' in probe.options && !('stepsPerEpoch' in overrides)) {
    const stepsPerEpoch = Math.max(1, Math.floor(context.workload.trainSize / context.batchSize));
    overrides.stepsPerEpoch = stepsPerEpoch;
    if ('totalEpochs' in probe.options && !('totalEpochs' in overrides)) overrides.totalEpochs = context.steps / stepsPerEpoch;
  }
  return createEstimator(name, overrides as Overrides);
}

export function zoMethod(preset: Preset): MethodAdapter {
  const { name, description, adapters } = preset;
  return {
    name,
    family: 'zo',
    description,
    defaultLr: createEstimator(name).options.lr!,
    choosesTrainable: adapters !== undefined,
    describeDefaults: (options) => ({ weightDecay: createEstimator(name, estimatorOverrides(options) as Overrides).options.weightDecay }),
    checkOptions(options) {
      if (!adapters && options.adapters !== undefined) {
        const withAdapters = listPresets().filter((candidate) => candidate.adapters !== undefined).map((candidate) => candidate.name);
        throw new ConfigError(`options.adapters is only for ${withAdapters.join(', ')}, not ${name}`);
      }
      if (options.adapters !== undefined && !isPlainObject(options.adapters)) {
        throw new ConfigError(`options.adapters must be an object of adapter fields, got ${describeValue(options.adapters)}`);
      }
      if (options.adapters !== undefined) checkKnownKeys('options.adapters', options.adapters as Record<string, unknown>, adapterKeys(adapters!));
      createEstimator(name, estimatorOverrides(options) as Overrides);
    },
    async create(context): Promise<TrainingMethod> {
      const { workload } = context;
      if (adapters) attachPresetAdapters(workload, adapters, context.options.adapters, context.seed);
      const estimator = buildEstimator(name, context);
      let state: EstimatorState = estimator.init(workload.params, { seed: context.seed });
      const stepsPerEpoch = Math.max(1, Math.floor(workload.trainSize / context.batchSize));
      return {
        trainableParams: () => workload.params.count(true),
        async step(batch, { step, lr }) {
          try {
            const result = await estimator.step(state, { loss: () => workload.loss(batch), lr, epoch: Math.floor(step / stepsPerEpoch) });
            const log = zoLogStep(result.record);
            if (step === 0) log.header = zoLogHeader(estimator, state, { start: ZO_START_FILE });
            state = result.state;
            return { loss: result.record.loss, log };
          } catch (error) {
            // the estimator restored θ and did not advance; the runner marks the run diverged
            if (error instanceof DivergenceError) return { loss: Number.NaN };
            throw error;
          }
        },
        forwardPassesAt: (step) => estimator.forwardPassesAt(state, Math.floor(step / stepsPerEpoch)),
        saveState: () => estimator.save(state),
        async followLogged(logged) {
          state = await estimator.followStep(state, logged);
        },
        loadState(saved) {
          state = estimator.load(state, saved as Parameters<Estimator['load']>[1]);
        },
        startFile: ZO_START_FILE,
        dispose: () => estimator.dispose(state),
      };
    },
  };
}
