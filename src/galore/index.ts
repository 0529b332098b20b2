/** The backprop path: GaLore and its baselines, per-layer updates, and the memory estimator. */
export { AdamW, type Optimizer } from './adamw.ts';
export { Adafactor, type AdafactorOptions } from './adafactor.ts';
export * from './defaults.ts';
export { createOptimizer, createPretrainingOptimizer, OPTIMIZER_NAMES, type OptimizerName, type OptimizerOptions } from './factory.ts';
export { GaLoreAdamW, type GaLoreAdamWOptions, type GaLoreSettings } from './galoreAdamW.ts';
export { globalStep, perLayerStep, perLayerUpdates } from './layerwise.ts';
export { LoraOptimizer, LORA_BASELINE_TARGETS, type ReLoraSettings } from './lora.ts';
export { architectureByName, estimateMemory, llamaArchitecture, MEMORY_METHODS, zoloArchitecture, type MemoryEstimate } from './memory.ts';
export type { OptimizerState, ParamOptimizer } from './optimizer.ts';
export { chooseSide, GradientProjector, PROJECTION_TYPES, resolveProjectorOptions, type ProjectorOptions } from './projector.ts';
export { dynamicCode, maxHalfGap, QuantizedState } from './quantize8bit.ts';
export { exactTopSvd, randomizedTopSvd } from './svd.ts';
export { parseTargetModules, selectTargets, type TargetModules } from './targets.ts';
