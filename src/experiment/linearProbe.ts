/**
 * The linear probe (MeZO arXiv 2305.17333, "LP"): logistic regression on the frozen pretrained
 * model's features — here its final hidden states averaged over each example's real tokens
 * (Workload.pooledFeatures). Features are standardised with the training rows' statistics, an
 * L2-regularised logistic regression is fitted for every λ of a small log grid, and λ is chosen on
 * validation (highest accuracy, ties to the lower validation loss, then to the larger λ). The test
 * split is scored only with the chosen λ, so it never takes part in a choice.
 */
import { ConfigError } from '../errors.ts';
import { fitLogisticRegression, scoreLogistic, type LogisticModel } from './logisticRegression.ts';
import { fitStandardizer, standardize, type Standardizer } from './standardize.ts';
import type { DataSplit, EvalResult, Workload } from './workload.ts';

/**
 * λ from nearly unpenalised (1e-4: the data term dominates for any n here) to strong shrinkage (10:
 * ‖w‖ bounded by about √(2 ln 2 / λ) ≈ 0.37 on standardised features), one decade apart.
 */
export const LINEAR_PROBE_DEFAULTS = {
  lambdas: [1e-4, 1e-3, 1e-2, 1e-1, 1, 10],
} as const;

export interface LabelledFeatures {
  /** row-major [labels.length, dim] */
  features: ArrayLike<number>;
  labels: ArrayLike<number>;
}

export interface LinearProbe {
  standardizer: Standardizer;
  model: LogisticModel;
  lambda: number;
  validation: EvalResult;
  /** every λ tried with its validation result, in the order tried. */
  grid: { lambda: number; validation: EvalResult }[];
}

/** Fits one probe per λ on `train` and keeps the best on `validation`. */
export function fitLinearProbe(train: LabelledFeatures, validation: LabelledFeatures, dim: number, lambdas: readonly number[] = LINEAR_PROBE_DEFAULTS.lambdas): LinearProbe {
  if (lambdas.length === 0) throw new ConfigError('linear probe: the λ grid must hold at least one value, got none');
  const standardizer = fitStandardizer(train.features, train.labels.length, dim);
  const trainRows = standardize(standardizer, train.features);
  const validationRows = standardize(standardizer, validation.features);
  let best: Omit<LinearProbe, 'grid' | 'standardizer'> | null = null;
  const grid: LinearProbe['grid'] = [];
  for (const lambda of [...lambdas].sort((a, b) => b - a)) {
    const model = fitLogisticRegression(trainRows, train.labels, dim, lambda);
    const result = scoreLogistic(model, validationRows, validation.labels);
    grid.push({ lambda, validation: result });
    const better = best === null || result.accuracy > best.validation.accuracy || (result.accuracy === best.validation.accuracy && result.loss < best.validation.loss);
    if (better) best = { model, lambda, validation: result };
  }
  return { standardizer, ...best!, grid };
}

export function scoreLinearProbe(probe: LinearProbe, data: LabelledFeatures): EvalResult {
  return scoreLogistic(probe.model, standardize(probe.standardizer, data.features), data.labels);
}

/** Rows [count, dim] read `batchSize` examples at a time through `read(indices)` (one forward pass each). */
export async function featureRows(read: (indices: number[]) => Promise<Float32Array>, count: number, dim: number, batchSize: number): Promise<Float32Array> {
  const features = new Float32Array(count * dim);
  for (let start = 0; start < count; start += batchSize) {
    const indices = Array.from({ length: Math.min(batchSize, count - start) }, (_, i) => start + i);
    features.set(await read(indices), start * dim);
  }
  return features;
}

/**
 * Features and labels of the first `count` examples of a split (0 = all), read in batches of
 * `batchSize` examples: one inference forward pass per batch.
 */
export async function splitFeatures(workload: Workload, split: DataSplit, count: number, batchSize: number): Promise<LabelledFeatures & { dim: number }> {
  const { pooledFeatures, labels, featureDim: dim } = workload;
  if (!pooledFeatures || !labels || dim === undefined) {
    throw new ConfigError("the task's workload offers no pooled features and labels; the linear probe needs a model with hidden states (task spam)");
  }
  const all = labels.call(workload, split);
  const rows = count === 0 ? all.length : Math.min(count, all.length);
  const features = await featureRows((indices) => pooledFeatures.call(workload, split, indices), rows, dim, batchSize);
  return { features, labels: all.subarray(0, rows), dim };
}
