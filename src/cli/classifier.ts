/** What `zolo predict` needs of any model it classifies with, whatever folder the model came from. */
import { FormatError } from '../errors.ts';
import type { CardHead } from '../data/checkpointCard.ts';
import type { Email } from '../data/spam.ts';
import type { EmailTask } from '../data/tasks.ts';
import type { TokenBatch } from '../nn/batch.ts';
import type { Tensor } from '../tensor/index.ts';

/** Refuses weights with NaN/Inf: every prediction from them would be meaningless. */
export function assertFiniteWeights(tensors: ReadonlyMap<string, Float32Array>, file: string): void {
  for (const [name, data] of tensors) {
    let bad = 0;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) bad++;
    if (bad > 0) throw new FormatError(`${file}: tensor "${name}" holds ${bad} non-finite values (NaN or ±Inf); refusing to predict with it`);
  }
}

/** Anything that maps a token batch to class logits [batch, classes]. */
export interface ClassLogitModel {
  forward(batch: TokenBatch): Tensor;
}

/** What `zolo predict` classifies with: a model giving class logits, the task that batches texts for it, the class names. */
export interface Classifier {
  model: ClassLogitModel;
  /** in logit order */
  classNames: readonly string[];
  /** 'prompt': LM + label words; 'classifier': an encoder's head */
  head: CardHead;
  /** builds the task (batches) for some texts */
  taskFor(texts: readonly string[]): EmailTask;
  /** 'label-word' (prompt head) or 'class' (classifier head) */
  logitKind: 'label-word' | 'class';
  dispose(): void;
}

/** Texts to classify as e-mails of the task (their label is unused). */
export function emailsOfTexts(texts: readonly string[]): Email[] {
  return texts.map((text, i) => ({ id: `input/${i}`, group: 'input', label: 0 as const, subject: '', body: text, text }));
}
