/**
 * The tasks zolo trains on, in one import: causal-LM pretraining batches, the e-mail
 * classification task (encoder-classifier and prompt-style batches) and the synthetic problems.
 */
export { BatchSampler, IGNORE_INDEX, chunk, epochOrder } from './batching.ts';
export { type LmBatch, LmTask, packTokens, unigramPerplexity } from './lmTask.ts';
export {
  type ClassifierBatch,
  DEFAULT_LABEL_WORDS,
  DEFAULT_PROMPT_SUFFIX,
  EMAIL_TASK_FORMATS,
  EmailTask,
  type EmailTaskFormat,
  type EmailTaskOptions,
  type PromptBatch,
  type PromptTemplate,
  labelTokenIds,
} from './emailTask.ts';
export * from './synthetic.ts';
