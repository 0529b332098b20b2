/**
 * The backprop family: every optimizer of src/galore's registry is a method of the same name —
 * adamw (full fine-tuning), adamw8bit, adafactor, galore-adamw, galore-adamw8bit, galore-adafactor,
 * lora, relora, adalomo, and any a plug-in registers; src/experiment/method.ts builds the adapter
 * when the name is first looked up. One step: loss and gradients of the trainable parameters by
 * the tape (`workload.lossAndGradients`), then `optimizer.step(gradients)` with the scheduled lr,
 * then the gradients are freed. With `options.perLayer` (and always for a fused-backward rule such
 * as AdaLomo) each parameter is updated from the tape's hook as its gradient completes instead.
 *
 * Options (`options.*`): the rule's own (AdamW: beta1, beta2, eps, eightBit {…}; Adafactor:
 * adafactor {…}; AdaLomo: adalomo {…}), perLayer, and the objects galore {rank, updateGap, scale,
 * …}, lora {rank, alpha, targets}, relora — checked by `checkOptimizerOptions`, which names the
 * key and what is allowed; `lr`/`weightDecay` come from the run config (null = the method's default).
 *
 * Divergence: a non-finite loss skips the update; a non-finite value inside the optimizer (an
 * 8-bit moment, Adafactor's update, GaLore's SVD input) is a DivergenceError. Either way the step
 * reports a NaN loss and the runner marks the run diverged, keeping its last good checkpoint.
 *
 * Resume: the checkpoint holds the optimizer's own state (moments, 8-bit codes, projector bases,
 * counters — `ParamOptimizer.saveState`), so a resumed run takes the same next step.
 */
import { ConfigError, DivergenceError } from '../../errors.ts';
import '../../galore/builtins.ts';
import { DEFAULT_GALORE_RANK_RULE } from '../../galore/defaults.ts';
import { perLayerUpdates } from '../../galore/layerwise.ts';
import {
  type BackpropOptimizer, checkOptimizerOptions, createOptimizer, defaultLrOf, describeOptimizer, type OptimizerOptions,
} from '../../galore/registry.ts';
import { disposeGrads } from '../../nn/tape.ts';
import type { MethodAdapter, TrainingMethod } from '../method.ts';


/** A NaN loss for a step whose optimizer met a non-finite value: the runner marks the run diverged. */
async function divergedAsNaN(run: () => Promise<number>): Promise<number> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof DivergenceError) return Number.NaN;
    throw error;
  }
}

export function backpropMethod(entry: BackpropOptimizer): MethodAdapter {
  const { name } = entry;
  return {
    name,
    family: 'backprop',
    description: describeOptimizer(entry),
    defaultLr: defaultLrOf(entry),
    choosesTrainable: entry.adapters !== undefined,
    describeDefaults(options) {
      const galore = options.galore as { rank?: unknown } | undefined;
      const rules = entry.galore && galore?.rank === undefined ? [`options.galore.rank: ${DEFAULT_GALORE_RANK_RULE}`] : [];
      return { weightDecay: entry.rule.defaultWeightDecay, rules };
    },
    checkOptions: (options) => checkOptimizerOptions(name, options),
    async create({ workload, options, lr, weightDecay, seed }): Promise<TrainingMethod> {
      checkOptimizerOptions(name, options);
      if (!workload.lossAndGradients) throw new ConfigError(`method ${name} needs gradients, which this task/model does not provide`);
      const { perLayer = entry.rule.fusedBackward === true, ...rest } = options as { perLayer?: boolean } & Record<string, unknown>;
      const optimizerOptions: OptimizerOptions = { ...rest, lr, seed };
      if (weightDecay !== null) optimizerOptions.weightDecay = weightDecay;
      if (entry.adapters) {
        if (!workload.linears) throw new ConfigError(`method ${name} needs a model with Linear layers for its adapters`);
        optimizerOptions.model = { params: workload.params, linears: () => workload.linears!() };
      }
      const optimizer = createOptimizer(name, workload.params, optimizerOptions);
      return {
        trainableParams: () => workload.params.count(true),
        async step(batch, { lr: stepLr }) {
          optimizer.lr = stepLr;
          if (perLayer) {
            // Updates land during the backward pass, so only the gradients in flight are alive; a
            // non-finite loss still stops the run, which keeps its last good checkpoint.
            const loss = await divergedAsNaN(async () => (await workload.lossAndGradients!(batch, perLayerUpdates(optimizer))).loss);
            return { loss };
          }
          const { loss, gradients } = await workload.lossAndGradients!(batch);
          try {
            if (!Number.isFinite(loss)) return { loss };
            return { loss: await divergedAsNaN(async () => {
              await optimizer.step(gradients);
              return loss;
            }) };
          } finally {
            disposeGrads(gradients);
          }
        },
        // one forward (with its backward) per step
        forwardPassesAt: () => 1,
        saveState: () => optimizer.saveState(),
        loadState: (state) => optimizer.loadState(state),
        dispose: () => optimizer.dispose(),
      };
    },
  };
}
