/** `zolo check`: the assumption checkers of src/assumptions run on real zolo models (docs/assumptions.md). */
export * from './defaults.ts';
export * from './dimensionFactor.ts';
export * from './estimatorSampler.ts';
export * from './lowRankTrajectory.ts';
export * from './output.ts';
export * from './plots.ts';
export * from './problem.ts';
export * from './report.ts';
export * from './runCheck.ts';
