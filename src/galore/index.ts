/** The backprop path: update rules, GaLore's wrapper, the optimizer registry, per-layer updates, and the memory estimator. */
import './builtins.ts';

export * from './defaults.ts';
export { galore, type GaLoreSettings, type GaLoreState } from './galore.ts';
export { globalStep, perLayerStep, perLayerUpdates } from './layerwise.ts';
export { LoraOptimizer, LORA_BASELINE_TARGETS, type ReLoraSettings } from './lora.ts';
export { architectureByName, estimateMemory, llamaArchitecture, memoryMethodNames, zoloArchitecture, type MemoryEstimate } from './memory.ts';
export type { GradientSource, OptimizerState, ParamOptimizer } from './optimizer.ts';
export { chooseSide, GradientProjector, PROJECTION_TYPES, resolveProjectorOptions, type ProjectorOptions } from './projector.ts';
export { dynamicCode, maxHalfGap, QuantizedState } from './quantize8bit.ts';
export {
  backpropOptimizer, backpropOptimizerNames, checkOptimizerOptions, createOptimizer, registerBackpropOptimizer,
  type BackpropOptimizer, type OptimizerOptions, type RuleDefinition, type StateSize,
} from './registry.ts';
export { applyUpdate, type RuleContext, type RuleUpdate, type SavedRuleState, type UpdateRule } from './rule.ts';
export { RuleOptimizer, type RuleOptimizerOptions } from './ruleOptimizer.ts';
export { adafactor } from './rules/adafactor.ts';
export { adalomo } from './rules/adalomo.ts';
export { adamw } from './rules/adamw.ts';
export { exactTopSvd, randomizedTopSvd } from './svd.ts';
export { parseTargetModules, selectTargets, type TargetModules } from './targets.ts';
