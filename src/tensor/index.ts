export * from './ledger.ts';
export * as ops from './ops.ts';
export * from './params.ts';
export * from './tensor.ts';
