/**
 * `majority`: the class prior as a classifier. It always predicts the most frequent class of the
 * training examples the run sees (with `taskOptions.shots` that is the balanced k-shot subset, ties
 * to the lower class index), whatever the input; its accuracy on a split is that class's share of
 * the split — the accuracy a method that learned nothing about the input reaches at best. Its loss
 * is the cross-entropy of the training class frequencies, add-one smoothed so that a class absent
 * from training still has finite loss: p_c = (n_c + 1) / (n + C).
 *
 * No model is run: the summary's memory is the loaded weights only, and no forward pass is counted.
 */
import { ConfigError } from '../../errors.ts';
import { registerMethod, type MethodAdapter } from '../method.ts';
import type { Workload } from '../workload.ts';

export interface ClassPrior {
  /** the class predicted for every input */
  majority: number;
  /** smoothed training class frequencies, [classes] */
  probabilities: number[];
}

/** The prior of `labels` over `classes` classes (at least the largest label + 1). */
export function classPrior(labels: ArrayLike<number>, classes: number): ClassPrior {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) counts[labels[i]!]! += 1;
  let majority = 0;
  counts.forEach((count, c) => {
    if (count > counts[majority]!) majority = c;
  });
  return { majority, probabilities: counts.map((count) => (count + 1) / (labels.length + classes)) };
}

export function requireLabels(workload: Workload, method: string): NonNullable<Workload['labels']> {
  if (!workload.labels) throw new ConfigError(`${method} needs a task whose workload exposes its class labels (task spam); this one does not`);
  return workload.labels.bind(workload);
}

function classCount(...labelSets: ArrayLike<number>[]): number {
  let largest = 1;
  for (const labels of labelSets) for (let i = 0; i < labels.length; i++) largest = Math.max(largest, labels[i]!);
  return largest + 1;
}

export const majority: MethodAdapter = {
  name: 'majority',
  family: 'baseline',
  description: 'baseline: always predict the majority class of the training split (the class prior)',
  defaultLr: 1,
  checkOptions(options) {
    const keys = Object.keys(options);
    if (keys.length > 0) throw new ConfigError(`options.${keys[0]} is not an option of majority, which takes none`);
  },
  async create({ workload }) {
    const labels = requireLabels(workload, 'majority');
    workload.params.setTrainable(() => false);
    const train = labels('train');
    const classes = classCount(train, labels('validation'), labels('test'));
    const prior = classPrior(train, classes);
    return {
      trainableParams: () => 0,
      step: () => Promise.reject(new Error('majority takes no training steps')),
      async evaluate(size, split) {
        const all = labels(split);
        const rows = all.subarray(0, size === 0 ? all.length : Math.min(size, all.length));
        let correct = 0;
        let loss = 0;
        for (const label of rows) {
          if (label === prior.majority) correct++;
          loss -= Math.log(prior.probabilities[label]!);
        }
        return { accuracy: correct / rows.length, loss: loss / rows.length };
      },
      saveState: async () => ({ json: null, tensors: {} }),
      loadState: () => {},
      dispose: () => {},
    };
  },
};

registerMethod(majority);
