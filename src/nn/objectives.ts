/**
 * Objectives over class logits, for evaluation and as the quantity a ZO estimator minimises (ZO
 * needs only loss values, so non-differentiable ones work too; MeZO, arXiv 2305.17333 §3.3,
 * optimises accuracy/F1 directly this way).
 *   cross-entropy  mean −log softmax(z)_y
 *   error          1 − accuracy,  accuracy = mean [argmax z = y] (ties → the lowest class index)
 *   one-minus-f1   1 − F1; F1 of class 1 (spam) for 2 classes, macro-F1 (mean over classes) otherwise;
 *                  a class with no predicted and no true examples has F1 = 1 (nothing to get wrong).
 * Bad input: logits whose length is not labels.length · classes, or a label outside 0..classes−1 → ShapeError.
 */
import { ShapeError, assertOneOf } from '../errors.ts';
import type { ClassificationBatch } from './batch.ts';
import { type Model, release } from './model.ts';

export const OBJECTIVES = ['cross-entropy', 'error', 'one-minus-f1'] as const;
export type Objective = (typeof OBJECTIVES)[number];

function check(logits: Float32Array, labels: Int32Array, classes: number): void {
  if (logits.length !== labels.length * classes) {
    throw new ShapeError(`objective: ${logits.length} logits for ${labels.length} labels × ${classes} classes`);
  }
  labels.forEach((label, row) => {
    if (!(label >= 0 && label < classes)) throw new ShapeError(`objective: labels[${row}] = ${label} outside 0..${classes - 1}`);
  });
}

/** argmax per row of logits [rows, classes]. */
export function predictions(logits: Float32Array, classes: number): Int32Array {
  const rows = logits.length / classes;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[r * classes + c]! > logits[r * classes + best]!) best = c;
    out[r] = best;
  }
  return out;
}

export function accuracy(logits: Float32Array, labels: Int32Array, classes: number): number {
  check(logits, labels, classes);
  const predicted = predictions(logits, classes);
  let right = 0;
  predicted.forEach((p, r) => {
    if (p === labels[r]) right++;
  });
  return right / labels.length;
}

function f1Of(predicted: Int32Array, labels: Int32Array, positive: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  predicted.forEach((p, r) => {
    const truth = labels[r] === positive;
    if (p === positive && truth) tp++;
    else if (p === positive) fp++;
    else if (truth) fn++;
  });
  return tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
}

/** F1 of class 1 for binary tasks, macro-F1 otherwise. */
export function f1Score(logits: Float32Array, labels: Int32Array, classes: number): number {
  check(logits, labels, classes);
  const predicted = predictions(logits, classes);
  if (classes === 2) return f1Of(predicted, labels, 1);
  let total = 0;
  for (let c = 0; c < classes; c++) total += f1Of(predicted, labels, c);
  return total / classes;
}

export function crossEntropyOf(logits: Float32Array, labels: Int32Array, classes: number): number {
  check(logits, labels, classes);
  let total = 0;
  labels.forEach((label, r) => {
    let max = -Infinity;
    for (let c = 0; c < classes; c++) max = Math.max(max, logits[r * classes + c]!);
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[r * classes + c]! - max);
    total += Math.log(sum) + max - logits[r * classes + label]!;
  });
  return total / labels.length;
}

/** The objective's value on one batch (lower is better), inference only; frees the logits. */
export async function objectiveValue(model: Model<ClassificationBatch>, batch: ClassificationBatch, objective: Objective): Promise<number> {
  assertOneOf('objective', objective, OBJECTIVES);
  const logitsTensor = model.forward(batch);
  let logits: Float32Array;
  try {
    logits = await logitsTensor.read();
  } finally {
    release(logitsTensor);
  }
  const classes = logits.length / batch.batch;
  if (objective === 'cross-entropy') return crossEntropyOf(logits, batch.labels, classes);
  if (objective === 'error') return 1 - accuracy(logits, batch.labels, classes);
  return 1 - f1Score(logits, batch.labels, classes);
}
