/**
 * Experiments: run configs, the runner, suites, reports and plots. Importing this module registers
 * the built-in tasks and methods (src/experiment/builtins.ts).
 */
import './builtins.ts';

export { checkNames, LR_SCHEDULES, parseRunConfig, RUN_CONFIG_KEYS, RUN_DEFAULTS, runConfigSchema, SELECT_BY } from './config.ts';
export type { NameRegistries, RunConfig, RunConfigInput, SelectBy } from './config.ts';
export { learningRateAt, type ScheduleSpec } from './schedule.ts';
export type { EvalPoint, FirstReached, SelectedPoint } from './selection.ts';
export { applySets, mergeLayers, splitAssignment, typeValue } from './overrides.ts';
export { explainDefaults, resolveRunConfig, type ConfigSources, type ExplainedConfig } from './resolve.ts';
export { methodAdapter, registeredMethods, registerMethod } from './method.ts';
export type { MethodAdapter, MethodContext, MethodFamily, MethodState, StepContext, StepResult, TrainingMethod } from './method.ts';
export { createWorkload, registeredTasks, registerWorkload } from './workload.ts';
export type { Batch, EvalResult, EvalSplit, LossAndGradients, Workload, WorkloadProvider, WorkloadRequest } from './workload.ts';
export { describeOutcome, FILES, readRunConfig, runExperiment } from './runner.ts';
export type { MetricsLine, RunOptions, RunResult, RunSummary } from './runner.ts';
export { readCheckpoint, writeCheckpoint, writeFileAtomic } from './checkpoint.ts';
export { checkSuite, collectResults, readSuiteFile, runSuite, writeSuiteOutputs } from './suite.ts';
export type { SuiteOptions, SuiteOutcome } from './suite.ts';
export { parseSuite, planSuite, type PlannedRun, type SuiteFile } from './suiteConfig.ts';
export { forwardPassesToTarget, readMetrics, type RunResultEntry, type SuiteResults } from './results.ts';
export { groupRows, headToHeadTable, memoryTable, renderReport, verdictRule } from './report.ts';
export { classPriorOf, learnedThreshold, verdictOf, type ClassPrior, type Verdict } from './verdict.ts';
export { fitLogisticRegression, scoreLogistic, type LogisticModel } from './logisticRegression.ts';
export { fitLinearProbe, scoreLinearProbe, type LinearProbe } from './linearProbe.ts';
export { renderPlots, type Plot } from './plots.ts';
