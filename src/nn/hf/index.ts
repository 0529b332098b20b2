export * from './config.ts';
export * from './load.ts';
export * from './tokenizer.ts';
export * from './weights.ts';
export * from './save.ts';
