/**
 * Zeroth-order estimators: the plug-in API (types, registry, createEstimator), the built-in parts
 * and presets, and trajectory replay. Importing this module registers the built-ins.
 */
import './builtins.ts';

export * from './types.ts';
export { createEstimator } from './estimator.ts';
export type { Estimator, EstimatorParts, EstimatorState, LoggedStep, Overrides, SavedEstimatorState, StepInput } from './estimator.ts';
export { getPart, getPreset, listParts, listPresets, registerPart, registerPreset } from './registry.ts';
export { coefficient, COMMON_OPTIONS, nonNegative, option, optionSpecs, positive, positiveInteger } from './options.ts';
export { addDecayedWeights, decayFactor, isDecayed } from './weightDecay.ts';
export { addEstimate, descend } from './optimizers/stages.ts';
export { isLowRankDirection } from './perturbations/lowRank.ts';
export { gaussianDirection } from './perturbations/gaussian.ts';
export { applySeedTrickUpdate } from './optimizers/sgd.ts';
export { stepSeedStream, windowSeed } from './seeds.ts';
export type { LowRankDirection, LowRankState, MatrixFactors } from './perturbations/lowRank.ts';
export { checkZoLogResumable, parseZoLog, replayZo, ZO_LOG_FILE, zoLogHeader, zoLogStep } from './replay.ts';
export type { ZoLog, ZoLogHeader, ZoLogParam, ZoLogStep } from './replay.ts';
