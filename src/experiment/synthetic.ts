/**
 * `synthetic-blobs`: softmax regression on a Gaussian mixture, the fast workload for machinery tests
 * and quick ablations (a whole run takes milliseconds, and it has an exact gradient so backprop
 * methods run on it too).
 *
 * Data: class c ∈ {0..K−1} has mean μ_c ~ N(0, separation²·I_d); an example of class c is
 * μ_c + N(0, I_d). Labels are balanced (example i has class i mod K). Everything is drawn from
 * seedrandom(`blobs:${dataSeed}`), independent of the run seed, so every run sees the same data;
 * train, validation and test are three independent draws of the same mixture.
 * Model: logits = x Wᵀ + b, W [K, d] and b [K] initialised to zero (the loss starts at ln K).
 * Gradient (exact): dL/dlogits = (softmax(logits) − onehot)/B, dW = dlogitsᵀ x, db = Σ_rows dlogits.
 */
import type { ParamGradCallback } from '../nn/tape.ts';
import seedrandom from 'seedrandom';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';
import * as ops from '../tensor/ops.ts';
import { ParamStore } from '../tensor/params.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { issueToConfigError } from './config.ts';
import { registerWorkload, type Batch, type EvalSplit, type LossAndGradients, type Workload, type WorkloadRequest } from './workload.ts';

export const SYNTHETIC_BLOBS = 'synthetic-blobs';

const blobsOptionsSchema = z.strictObject({
  classes: z.number().int().min(2).max(64).default(2).describe('an integer in [2, 64]'),
  features: z.number().int().min(1).max(4096).default(16).describe('an integer in [1, 4096]'),
  trainSize: z.number().int().min(1).max(1_000_000).default(512).describe('an integer in [1, 1000000]'),
  validationSize: z.number().int().min(1).max(1_000_000).default(256).describe('an integer in [1, 1000000]'),
  testSize: z.number().int().min(1).max(1_000_000).default(256).describe('an integer in [1, 1000000]'),
  separation: z.number().positive().finite().default(0.6).describe('a number > 0'),
  dataSeed: z.number().int().min(0).default(0).describe('an integer ≥ 0'),
});

export type BlobsOptions = z.output<typeof blobsOptionsSchema>;

function gaussian(rng: () => number): number {
  // Box–Muller on host uniforms; 1 − u keeps the log argument in (0, 1].
  const u1 = 1 - rng();
  const u2 = rng();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

interface Split {
  features: Float32Array; // [n, d]
  labels: Int32Array; // [n]
}

function drawBlobs(options: BlobsOptions): Record<'train' | EvalSplit, Split> {
  const rng = seedrandom(`blobs:${options.dataSeed}`);
  const { classes, features: d } = options;
  const means = Array.from({ length: classes }, () => Array.from({ length: d }, () => options.separation * gaussian(rng)));
  const draw = (n: number): Split => {
    const features = new Float32Array(n * d);
    const labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const label = i % classes;
      labels[i] = label;
      for (let j = 0; j < d; j++) features[i * d + j] = means[label]![j]! + gaussian(rng);
    }
    return { features, labels };
  };
  // test is drawn last so adding it left the train and validation draws of a data seed unchanged
  return { train: draw(options.trainSize), validation: draw(options.validationSize), test: draw(options.testSize) };
}

function gather(split: Split, indices: readonly number[], d: number): Split {
  const features = new Float32Array(indices.length * d);
  const labels = new Int32Array(indices.length);
  indices.forEach((index, row) => {
    features.set(split.features.subarray(index * d, (index + 1) * d), row * d);
    labels[row] = split.labels[index]!;
  });
  return { features, labels };
}

export async function createBlobsWorkload(request: WorkloadRequest): Promise<Workload> {
  if (request.model !== 'linear') {
    throw new ConfigError(`model must be "linear" for task ${SYNTHETIC_BLOBS} (softmax regression), got "${request.model}"`);
  }
  const parsed = blobsOptionsSchema.safeParse(request.taskOptions, { reportInput: true });
  if (!parsed.success) throw issueToConfigError(blobsOptionsSchema, parsed.error.issues[0]!, 'taskOptions');
  const options = parsed.data;
  const { classes, features: d } = options;
  const data = drawBlobs(options);
  const engine = request.engine;
  const params = new ParamStore(engine);
  const weight = params.add('head.weight', 'head', [classes, d], new Float32Array(classes * d));
  const bias = params.add('head.bias', 'head', [classes], new Float32Array(classes));

  const logitsOf = (split: Split, rows: number): { input: Tensor; logits: Tensor } => {
    const input = engine.fromArray(split.features, [rows, d], 'activation');
    // linear returns a view; keep the buffer's owner so disposing it frees the memory
    const logits = ops.linear(input, weight.tensor, bias.tensor);
    return { input, logits: logits.base ?? logits };
  };

  /** Cross-entropy of each training example of `batch`, from one forward pass. */
  const exampleLosses = async (batch: Batch): Promise<Float32Array> => {
    const split = gather(data.train, batch, d);
    const { input, logits } = logitsOf(split, batch.length);
    const losses = await ops.crossEntropyRowValues(logits, split.labels);
    input.dispose();
    logits.dispose();
    return losses;
  };

  return {
    engine,
    params,
    trainSize: options.trainSize,
    validationSize: options.validationSize,
    testSize: options.testSize,
    // every label is a class (≥ 0), so the mean over all rows is crossEntropyMean's
    loss: async (batch: Batch): Promise<number> => ops.meanOfRowLosses(await exampleLosses(batch), null),
    exampleLosses,
    async lossAndGradients(batch: Batch, onParamGrad?: ParamGradCallback): Promise<LossAndGradients> {
      const rows = batch.length;
      const split = gather(data.train, batch, d);
      const { input, logits } = logitsOf(split, rows);
      const loss = await ops.crossEntropyMean(logits, split.labels);
      const probabilities = ops.softmax(logits);
      const onehot = new Float32Array(rows * classes);
      split.labels.forEach((label, row) => (onehot[row * classes + label] = 1));
      const target = engine.fromArray(onehot, [rows, classes], 'activation');
      const residual = ops.sub(probabilities, target);
      const dLogits = ops.scale(residual, 1 / rows);
      const dWeight = ops.matmul(dLogits, input, { transA: true, category: 'gradient' });
      const dBias = ops.reduce('sum', dLogits, 0, 'gradient');
      for (const t of [input, logits, probabilities, target, residual, dLogits]) t.dispose();
      // the contract is one gradient per trainable parameter (a run's `trainable` may freeze either)
      const gradients = new Map<typeof weight, Tensor>();
      for (const [param, grad] of [[weight, dWeight], [bias, dBias]] as const) {
        if (param.trainable) gradients.set(param, grad);
        else grad.dispose();
      }
      if (!onParamGrad) return { loss, gradients };
      for (const [param, grad] of gradients) {
        await onParamGrad(param, grad);
        grad.dispose();
      }
      return { loss, gradients: new Map() };
    },
    async evaluate(size: number, which: EvalSplit) {
      const available = data[which].labels.length;
      const n = size === 0 ? available : Math.min(size, available);
      const split = gather(data[which], Array.from({ length: n }, (_, i) => i), d);
      const { input, logits } = logitsOf(split, n);
      const loss = await ops.crossEntropyMean(logits, split.labels);
      const values = await logits.read();
      input.dispose();
      logits.dispose();
      let correct = 0;
      for (let row = 0; row < n; row++) {
        let best = 0;
        for (let c = 1; c < classes; c++) if (values[row * classes + c]! > values[row * classes + best]!) best = c;
        if (best === split.labels[row]) correct++;
      }
      return { accuracy: correct / n, loss };
    },
    dispose: () => params.dispose(),
  };
}

registerWorkload(SYNTHETIC_BLOBS, createBlobsWorkload, blobsOptionsSchema);
