export * as arbitraries from './arbitraries.ts';
export * from './estimatorQuality.ts';
export * from './hessian.ts';
export * from './lowRank.ts';
export * from './pl.ts';
export * from './problem.ts';
export * from './smoothness.ts';
export * from './vectors.ts';
