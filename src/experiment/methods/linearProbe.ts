/**
 * `linear-probe`: logistic regression on the frozen pretrained model's mean-pooled final hidden
 * states (MeZO's "LP" baseline; the fit and the λ choice are in ../linearProbe.ts). The model's
 * weights never change.
 *
 * Cost accounting: the training features are read at setup in batches of `batchSize` examples, one
 * inference forward pass per batch, and those are the run's forward passes (so a probe on 4,836
 * e-mails at batch 16 spends 303). Validation and test features are evaluation, not counted, like
 * every method's evaluation. Trainable parameters: the probe's d weights and its bias.
 *
 * Options: `lambdas`, the L2 grid searched on validation (default LINEAR_PROBE_DEFAULTS.lambdas).
 */
import { ConfigError, describeValue } from '../../errors.ts';
import { fitLinearProbe, LINEAR_PROBE_DEFAULTS, scoreLinearProbe, splitFeatures, type LabelledFeatures, type LinearProbe } from '../linearProbe.ts';
import { registerMethod, type MethodAdapter } from '../method.ts';
import type { EvalSplit } from '../workload.ts';

function lambdasOf(options: Record<string, unknown>): number[] {
  for (const key of Object.keys(options)) {
    if (key !== 'lambdas') throw new ConfigError(`options.${key} is not an option of linear-probe; allowed: lambdas`);
  }
  const lambdas = options.lambdas ?? LINEAR_PROBE_DEFAULTS.lambdas;
  if (!Array.isArray(lambdas) || lambdas.length === 0 || !lambdas.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)) {
    throw new ConfigError(`options.lambdas must be a non-empty list of finite numbers > 0 (the L2 strengths tried on validation), got ${describeValue(lambdas)}`);
  }
  return lambdas as number[];
}

export const linearProbe: MethodAdapter = {
  name: 'linear-probe',
  family: 'baseline',
  description: 'baseline: logistic regression on the frozen mean-pooled final hidden states (L2 strength chosen on validation)',
  defaultLr: 1,
  checkOptions(options) {
    lambdasOf(options);
  },
  async create({ workload, options, batchSize }) {
    const lambdas = lambdasOf(options);
    workload.params.setTrainable(() => false);
    const train = await splitFeatures(workload, 'train', 0, batchSize);
    // a probe per validation size: the runner evaluates validation, then test, at one size
    const probes = new Map<number, LinearProbe>();
    const evaluationBatch = Math.max(batchSize, 32);
    const probeFor = async (size: number): Promise<LinearProbe> => {
      let probe = probes.get(size);
      if (!probe) {
        const validation: LabelledFeatures = await splitFeatures(workload, 'validation', size, evaluationBatch);
        probe = fitLinearProbe(train, validation, train.dim, lambdas);
        probes.set(size, probe);
      }
      return probe;
    };
    return {
      trainableParams: () => train.dim + 1,
      step: () => Promise.reject(new Error('linear-probe takes no training steps')),
      async evaluate(size: number, split: EvalSplit) {
        const probe = await probeFor(size);
        if (split === 'validation') return probe.validation;
        return scoreLinearProbe(probe, await splitFeatures(workload, 'test', size, evaluationBatch));
      },
      saveState: async () => ({ json: null, tensors: {} }),
      loadState: () => {},
      dispose: () => {},
    };
  },
};

registerMethod(linearProbe);
