export * from './spam.ts';
export * from './tokenizer.ts';
export * from './tasks.ts';
