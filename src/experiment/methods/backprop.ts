/**
 * The backprop family: every optimizer of src/galore's `createOptimizer` is a method of the same
 * name — adamw (full fine-tuning), adamw8bit, adafactor, galore-adamw, galore-adamw8bit,
 * galore-adafactor, lora, relora. One step: loss and gradients of the trainable parameters by the
 * tape (`workload.lossAndGradients`), then `optimizer.step(gradients)` with the scheduled lr, then
 * the gradients are freed.
 *
 * Options (`options.*`): beta1, beta2, eps (Adam), perLayer (true: per-layer updates), and objects galore {rank, updateGap, scale, …},
 * eightBit, adafactor, lora {rank, alpha, targets}, relora — passed to createOptimizer, which
 * validates them; `lr`/`weightDecay` come from the run config (null = FINE_TUNING_LR / ADAMW_DEFAULTS).
 *
 * Resume: the checkpoint holds the optimizer's own state (moments, 8-bit codes, projector bases,
 * counters — `ParamOptimizer.saveState`), so a resumed run takes the same next step.
 */
import { ConfigError, describeValue } from '../../kernels/errors.ts';
import { ADAFACTOR_DEFAULTS, ADAMW_DEFAULTS, DEFAULT_GALORE_RANK_RULE, FINE_TUNING_LR } from '../../galore/defaults.ts';
import { createOptimizer, OPTIMIZER_NAMES, type OptimizerName, type OptimizerOptions } from '../../galore/factory.ts';
import { perLayerUpdates } from '../../galore/layerwise.ts';
import { resolveProjectorOptions } from '../../galore/projector.ts';
import { disposeGrads } from '../../nn/tape.ts';
import { registerMethod, type MethodAdapter, type TrainingMethod } from '../method.ts';
import { checkBackpropObject } from '../nestedOptions.ts';
import { isPlainObject } from '../overrides.ts';

const NUMBER_OPTIONS = ['beta1', 'beta2', 'eps'] as const;
const OBJECT_OPTIONS = ['galore', 'eightBit', 'adafactor', 'lora', 'relora'] as const;
/** `options.perLayer`: apply each parameter's update as soon as its gradient is complete (GaLore §3.2). */
const FLAG_OPTIONS = ['perLayer'] as const;

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  adamw: 'full fine-tuning with AdamW (backprop)',
  adamw8bit: 'full fine-tuning with 8-bit-state AdamW',
  adafactor: 'full fine-tuning with Adafactor',
  'galore-adamw': 'GaLore: AdamW with states in a low-rank projection of each 2-D gradient',
  'galore-adamw8bit': 'GaLore with 8-bit states',
  'galore-adafactor': 'GaLore over Adafactor',
  lora: 'LoRA adapters trained with AdamW (backprop)',
  relora: 'ReLoRA: LoRA merged and restarted every K steps',
};

function checkBackpropOptions(name: string, options: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(options)) {
    if ((NUMBER_OPTIONS as readonly string[]).includes(key)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConfigError(`options.${key} must be a finite number, got ${describeValue(value)}`);
    } else if ((FLAG_OPTIONS as readonly string[]).includes(key)) {
      if (typeof value !== 'boolean') throw new ConfigError(`options.${key} must be true or false, got ${describeValue(value)}`);
    } else if ((OBJECT_OPTIONS as readonly string[]).includes(key)) {
      if (!isPlainObject(value)) throw new ConfigError(`options.${key} must be an object, got ${describeValue(value)}`);
      checkBackpropObject(key, value);
    } else {
      throw new ConfigError(`options.${key} is not an option of ${name}; allowed: ${[...NUMBER_OPTIONS, ...FLAG_OPTIONS, ...OBJECT_OPTIONS].join(', ')}`);
    }
  }
  if (options.galore !== undefined) {
    if (!name.startsWith('galore')) throw new ConfigError(`options.galore is only for the galore-* methods, not ${name}`);
    resolveProjectorOptions(options.galore as Parameters<typeof resolveProjectorOptions>[0]);
  }
  if ((options.lora !== undefined || options.relora !== undefined) && name !== 'lora' && name !== 'relora') {
    throw new ConfigError(`options.lora and options.relora are only for lora and relora, not ${name}`);
  }
}

export function backpropMethod(name: OptimizerName): MethodAdapter {
  return {
    name,
    family: 'backprop',
    description: DESCRIPTIONS[name] ?? `${name} (backprop)`,
    defaultLr: FINE_TUNING_LR[name],
    choosesTrainable: name === 'lora' || name === 'relora',
    describeDefaults(options) {
      const weightDecay = name.endsWith('adafactor') ? ADAFACTOR_DEFAULTS.weightDecay : ADAMW_DEFAULTS.weightDecay;
      const galore = options.galore as { rank?: unknown } | undefined;
      const rules = name.startsWith('galore') && galore?.rank === undefined ? [`options.galore.rank: ${DEFAULT_GALORE_RANK_RULE}`] : [];
      return { weightDecay, rules };
    },
    checkOptions: (options) => checkBackpropOptions(name, options),
    async create({ workload, options, lr, weightDecay, seed }): Promise<TrainingMethod> {
      checkBackpropOptions(name, options);
      if (!workload.lossAndGradients) throw new ConfigError(`method ${name} needs gradients, which this task/model does not provide`);
      const { perLayer = false, ...rest } = options as { perLayer?: boolean } & Record<string, unknown>;
      const optimizerOptions: OptimizerOptions = { ...(rest as OptimizerOptions), lr, seed };
      if (weightDecay !== null) optimizerOptions.weightDecay = weightDecay;
      if (name === 'lora' || name === 'relora') {
        if (!workload.linears) throw new ConfigError(`method ${name} needs a model with Linear layers for its adapters`);
        optimizerOptions.model = { params: workload.params, linears: () => workload.linears!() };
      }
      const optimizer = createOptimizer(name, workload.params, optimizerOptions);
      return {
        trainableParams: () => workload.params.count(true),
        async step(batch, { lr: stepLr }) {
          if (perLayer) {
            // Updates land during the backward pass, so only one gradient is alive at a time; a
            // non-finite loss still stops the run, which keeps its last good checkpoint.
            optimizer.lr = stepLr;
            const { loss } = await workload.lossAndGradients!(batch, perLayerUpdates(optimizer));
            return { loss };
          }
          const { loss, gradients } = await workload.lossAndGradients!(batch);
          try {
            if (Number.isFinite(loss)) {
              optimizer.lr = stepLr;
              optimizer.step(gradients);
            }
          } finally {
            disposeGrads(gradients);
          }
          return { loss };
        },
        // one forward (with its backward) per step
        forwardPassesAt: () => 1,
        saveState: async () => optimizer.saveState(),
        loadState: (state) => optimizer.loadState(state),
        dispose: () => optimizer.dispose(),
      };
    },
  };
}

for (const name of OPTIMIZER_NAMES) registerMethod(backpropMethod(name));
