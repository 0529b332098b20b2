/**
 * zolo's public surface (`import … from 'zolo'`), named one by one and grouped by room; docs/api.md
 * lists the same names. Anything not exported here is internal and may change without notice. The
 * assumption checkers and their fast-check arbitraries are the subpaths `zolo/assumptions` and
 * `zolo/assumptions/arbitraries`.
 */

// the built-in backends, estimator parts and presets, backprop optimizers, tasks and training methods register on import
import './kernels/index.ts';
import './zo/builtins.ts';
import './experiment/builtins.ts';

// ---- errors (every room raises these)
export { ConfigError, DivergenceError, FormatError, ShapeError, ZoloError } from './errors.ts';

// ---- kernels: backends and regenerated noise
export type { Backend, BackendOptions, DeviceBuffer } from './kernels/backend.ts';
export { CpuBackend } from './kernels/cpu.ts';
export { createBackend, defaultBackendName, registerBackend, registeredBackends } from './kernels/index.ts';
export {
  BuiltinNoisePurpose, fillNoiseNormals, NOISE_FORMAT_VERSION, noiseKey, noisePurpose, registeredNoisePurposes, registerNoisePurpose,
  type NoiseKey, type NoisePurpose,
} from './kernels/noiseStreams.ts';
export { fillNormals, normalAt, threefry2x32 } from './kernels/rng.ts';

// ---- tensors, parameters, memory accounting
export { Engine, Tensor, type Shape } from './tensor/tensor.ts';
export * as ops from './tensor/ops.ts';
export { PARAM_GROUPS, ParamStore, type Param, type ParamGroup } from './tensor/params.ts';
export { MEMORY_CATEGORIES, MemoryLedger, type ByteCounts, type MemoryCategory, type MemorySnapshot } from './tensor/ledger.ts';

// ---- models
export { createModel, type ModelSpec } from './nn/factory.ts';
export { createLanguageModel, languageModelConfig, type LanguageModel } from './nn/languageModel.ts';
export { CausalLm } from './nn/causalLm.ts';
export { EncoderClassifier } from './nn/encoderClassifier.ts';
export { PromptClassifier } from './nn/promptClassifier.ts';
export { loadCheckpoint, saveCheckpoint, type LoadedCheckpoint, type SavableModel } from './nn/checkpoint.ts';
export { Tape, valueAndGrad, type ValueAndGrad } from './nn/tape.ts';
export { HfTokenizer, isHfModelDir, loadHfModel, saveHfModel } from './nn/hf/index.ts';
export type { Model, ModelKind } from './nn/model.ts';

// ---- data
export { loadSpamCorpus, loadSplit, splitCorpus, type Email, type SplitName } from './data/spam.ts';
export { Tokenizer, trainTokenizer } from './data/tokenizer.ts';
export { EmailTask, type EmailTaskOptions } from './data/emailTask.ts';
export { LmTask } from './data/lmTask.ts';
export { BatchSampler } from './data/batching.ts';

// ---- zeroth-order estimators and their plug-in API
export {
  createEstimator, type Estimator, type EstimatorState, type LoggedStep, type Overrides, type StepInput,
} from './zo/estimator.ts';
export { getPart, getPreset, listParts, listPresets, registerPart, registerPreset } from './zo/registry.ts';
export { coefficient, nonNegative, option, optionSpecs, positive, positiveInteger } from './zo/options.ts';
export { applySeedTrickUpdate } from './zo/optimizers/sgd.ts';
export { addEstimate, descend } from './zo/optimizers/stages.ts';
export { addDecayedWeights, decayFactor } from './zo/weightDecay.ts';
export { gaussianDirection } from './zo/perturbations/gaussian.ts';
export type {
  CommonOptionName, DifferenceScheme, Direction, Options, OptionSpec, Part, PartContext, PartOptions, Perturbation, Preset, PresetParts, QueryEstimate,
  QuerySchedule, StepRecord, UpdateContext, UpdateResult, ZoOptimizer,
} from './zo/types.ts';
export { parseZoLog, replayZo, ZO_LOG_FILE, zoLogHeader, zoLogStep, type ZoLog, type ZoLogHeader } from './zo/replay.ts';

// ---- backprop: update rules, GaLore's wrapper, the optimizer registry
export {
  backpropOptimizerNames, createOptimizer, registerBackpropOptimizer,
  type BackpropOptimizer, type OptimizerOptions, type RuleDefinition, type StateSize,
} from './galore/registry.ts';
export { applyUpdate, type RuleContext, type RuleUpdate, type SavedRuleState, type UpdateRule } from './galore/rule.ts';
export { RuleOptimizer } from './galore/ruleOptimizer.ts';
export { galore, type GaLoreSettings } from './galore/galore.ts';
export { adamw } from './galore/rules/adamw.ts';
export { adafactor } from './galore/rules/adafactor.ts';
export { adalomo } from './galore/rules/adalomo.ts';
export { perLayerUpdates } from './galore/layerwise.ts';
export { GradientProjector, type ProjectorOptions } from './galore/projector.ts';
export { exactTopSvd, randomizedTopSvd } from './galore/svd.ts';
export { architectureByName, estimateMemory, type MemoryEstimate } from './galore/memory.ts';
export type { OptimizerState, ParamOptimizer } from './galore/optimizer.ts';

// ---- tensor trains
export { ttTensor, ttToFull, type TTTensor } from './tensortrain/ttTensor.ts';
export { ttSvd } from './tensortrain/ttSvd.ts';
export { round as ttRound } from './tensortrain/round.ts';
export { ttMatrix, ttMatrixFromDense, ttMatrixTimesBatch, ttMatrixToDense, type TTMatrix } from './tensortrain/ttMatrix.ts';

// ---- experiments: runs, suites, registries of methods and tasks
export { parseRunConfig, type RunConfig, type RunConfigInput } from './experiment/config.ts';
export { resolveRunConfig } from './experiment/resolve.ts';
export { readRunConfig, runExperiment, type RunOptions, type RunResult, type RunSummary } from './experiment/runner.ts';
export { runSuite, type SuiteOptions, type SuiteOutcome } from './experiment/suite.ts';
export { parseSuite, type SuiteFile } from './experiment/suiteConfig.ts';
export { readMetrics } from './experiment/results.ts';
export { registeredMethods, registerMethod, type MethodAdapter, type TrainingMethod } from './experiment/method.ts';
export { registeredTasks, registerWorkload, type Workload, type WorkloadProvider } from './experiment/workload.ts';
