/**
 * zolo's public surface, one namespace per room (DESIGN.md "Layout"). The most used entry points
 * are re-exported by name below; everything else is reached through its namespace.
 */
export * as kernels from './kernels/index.ts';
export * as tensor from './tensor/index.ts';
export * as nn from './nn/index.ts';
export * as data from './data/index.ts';
export * as tensortrain from './tensortrain/index.ts';
export * as zo from './zo/index.ts';
export * as galore from './galore/index.ts';
export * as assumptions from './assumptions/index.ts';
export * as experiment from './experiment/index.ts';

export { ConfigError, createBackend, DivergenceError, FormatError, ShapeError, ZoloError } from './kernels/index.ts';
export { Engine, MemoryLedger, ParamStore, Tensor } from './tensor/index.ts';
export { createModel, loadCheckpoint, saveCheckpoint, Tape, valueAndGrad } from './nn/index.ts';
export { HfTokenizer, loadHfModel } from './nn/hf/index.ts';
export { createEstimator, registerPart, registerPreset } from './zo/index.ts';
export { createOptimizer } from './galore/index.ts';
export { runExperiment, runSuite } from './experiment/index.ts';
