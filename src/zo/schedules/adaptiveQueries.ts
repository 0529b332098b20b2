/**
 * AdaZeta's adaptive query schedule (Yang et al., EMNLP 2024, arXiv:2406.18060; spec
 * adazeta-tensortrain.md §1.4). The number of directions averaged per step grows sublinearly with
 * the epoch and is capped, which shrinks the ZO-variance term ∝ D·mean(1/Q_k) of the convergence
 * bound while keeping Σ_k Q_k far below linear growth.
 *
 * Code form (yifanycc/AdaZeta large_models/trainer_adazeta.py, evaluated at the start of every
 * epoch, so Q is constant within an epoch):
 *     Q(e) = min( max( ⌊α·e^β⌋, 1 ), Q_max ),  e = 0, 1, 2, … (0-based, so Q(0) = 1)
 * with β not a free constant: large_models/run.py sets β = ln(NUM/α) / ln(E_tot), so the uncapped
 * curve α·e^β reaches NUM at the last epoch E_tot = max_steps / (num_train / batch_size).
 * Paper form [R]: Q_k = min(α·e_k^β, Q_max); the code adds the floor and the lower bound 1, which
 * an integer query count needs — this module follows the code. `useTarget` (CLI `--use_num`)
 * skips the schedule: Q ≡ NUM.
 *
 * Float note: ⌊α·E_tot^β⌋ can evaluate to NUM − 1 (0.85·100^β = 19.999… in both CPython and V8;
 * for other E_tot the two libms round differently); only α·E_tot^β = NUM holds, to ~1e−14.
 * Bad input: α ≤ 0, NUM or Q_max not positive integers, NUM ≤ α (β ≤ 0, Q(0) = 0^β undefined),
 * E_tot negative or not finite → ConfigError. E_tot ≤ 1: see adaptiveExponent.
 */
import { ConfigError, describeValue } from '../../errors.ts';
import { nonNegative, option, positive, positiveInteger } from '../options.ts';
import type { OptionSpec, PartOptions, QuerySchedule } from '../types.ts';

export interface AdaptiveQueryConfig {
  /** α, `shrink_factor` (CLI SHRINK) */
  scale: number;
  /** NUM, the value the uncapped curve reaches at E_tot (CLI NUM, arg `num_pertub`) */
  target: number;
  /** Q_max, `num_pertub_max` (CLI NUM_MAX) */
  maxQueries: number;
  /** E_tot = max_steps / (num_train / batch_size); may be fractional; ≤ 1 means shorter than one epoch */
  totalEpochs: number;
  /** `--use_num`: Q ≡ NUM, no schedule */
  useTarget: boolean;
}

/** Defaults of the released Llama-2-7B command (large_models/run_all_large_exp.sh [C]; spec §1.4, §1.6). */
export const ADAZETA_SCHEDULE_DEFAULTS: AdaptiveQueryConfig = {
  scale: 0.85,
  target: 20,
  maxQueries: 15,
  // 10,000 steps / (1,000 examples / batch 16)
  totalEpochs: 160,
  useTarget: false,
};

/**
 * β = ln(NUM/α) / ln(E_tot) (large_models/run.py [C]). A run shorter than one epoch (E_tot ≤ 1, where
 * the reference divides by ln(E_tot) ≤ 0) takes the E_tot → 1⁺ limit β = +∞: Q = 1 in epochs 0 and 1
 * and Q_max after — in practice Q ≡ 1, since such a run never leaves epoch 0.
 */
export function adaptiveExponent(scale: number, target: number, totalEpochs: number): number {
  return totalEpochs > 1 ? Math.log(target / scale) / Math.log(totalEpochs) : Infinity;
}

/** Q(e) for a 0-based epoch; a positive integer ≤ Q_max (or NUM with useTarget). Pure. */
export function queriesAtEpoch(epoch: number, config: AdaptiveQueryConfig): number {
  if (config.useTarget) return config.target;
  const beta = adaptiveExponent(config.scale, config.target, config.totalEpochs);
  const power = epoch <= 1 ? epoch : epoch ** beta; // e^β, exact at e = 0, 1 even for β = ∞
  return Math.min(Math.max(Math.floor(config.scale * power), 1), config.maxQueries);
}

/** Throws ConfigError naming the field unless the config is usable. */
export function validateAdaptiveQueries(config: AdaptiveQueryConfig, prefix = 'adaptive'): AdaptiveQueryConfig {
  if (!(Number.isFinite(config.scale) && config.scale > 0)) throw new ConfigError(`${prefix}.queryScale (α) must be a positive finite number, got ${describeValue(config.scale)}`);
  for (const [field, value] of [['queryTarget (NUM)', config.target], ['maxQueries (Q_max)', config.maxQueries]] as const) {
    if (!(Number.isInteger(value) && value >= 1)) throw new ConfigError(`${prefix}.${field} must be a positive integer, got ${describeValue(value)}`);
  }
  if (!(config.target > config.scale)) {
    throw new ConfigError(`${prefix}.queryTarget (NUM) must exceed queryScale (α) so that β = ln(NUM/α)/ln(E_tot) > 0, got NUM = ${config.target}, α = ${config.scale}`);
  }
  if (!(Number.isFinite(config.totalEpochs) && config.totalEpochs >= 0)) {
    throw new ConfigError(`${prefix}.totalEpochs (E_tot) must be a finite number ≥ 0, got ${describeValue(config.totalEpochs)}`);
  }
  return config;
}

const flag: OptionSpec['check'] = (field, value) => {
  if (value !== 0 && value !== 1) throw new ConfigError(`${field} must be 0 or 1, got ${describeValue(value)}`);
};

const nonNegativeInteger: OptionSpec['check'] = (field, value) => {
  if (!(Number.isInteger(value) && value >= 0)) throw new ConfigError(`${field} must be an integer ≥ 0, got ${describeValue(value)}`);
};

const source = 'AdaZeta large_models/run_all_large_exp.sh, Llama-2-7B [C]';

type AdaptiveOption = 'queryScale' | 'queryTarget' | 'maxQueries' | 'totalEpochs' | 'stepsPerEpoch' | 'useTarget';

function configFrom(options: PartOptions<AdaptiveOption>): AdaptiveQueryConfig {
  return {
    scale: options.queryScale,
    target: options.queryTarget,
    maxQueries: options.maxQueries,
    totalEpochs: options.totalEpochs,
    useTarget: options.useTarget === 1,
  };
}

/**
 * The schedule as an estimator part. The epoch is ⌊step / stepsPerEpoch⌋ when stepsPerEpoch > 0,
 * else the epoch the caller passes (StepInput.epoch). The runner should set stepsPerEpoch =
 * ⌈train size / batch⌉ and totalEpochs = steps·batch / train size, as the reference derives them.
 */
export const adaptiveQueries: QuerySchedule<null, AdaptiveOption> = {
  kind: 'schedule',
  name: 'adaptive',
  description: 'AdaZeta: Q(e) = min(max(⌊α·e^β⌋, 1), Q_max), β = ln(NUM/α)/ln(E_tot), constant within an epoch',
  options: {
    queryScale: option(ADAZETA_SCHEDULE_DEFAULTS.scale, positive, 'α, scale of the query curve (SHRINK)', source),
    queryTarget: option(ADAZETA_SCHEDULE_DEFAULTS.target, positiveInteger, 'NUM, value α·e^β reaches at e = E_tot (sets β)', source),
    maxQueries: option(ADAZETA_SCHEDULE_DEFAULTS.maxQueries, positiveInteger, 'Q_max, cap on the queries per step (NUM_MAX)', source),
    totalEpochs: option(ADAZETA_SCHEDULE_DEFAULTS.totalEpochs, nonNegative, 'E_tot = steps / (train size / batch); ≤ 1 ⇒ Q ≡ 1', `${source}: 10,000 steps, 1,000 examples, batch 16`),
    stepsPerEpoch: option(0, nonNegativeInteger, 'steps per epoch for e = ⌊step / stepsPerEpoch⌋; 0 = use the caller\'s epoch', 'zolo (the reference counts dataloader epochs)'),
    useTarget: option(0, flag, '1 = skip the schedule, Q ≡ NUM (--use_num)', 'AdaZeta large_models/run.py --use_num [C]'),
  },
  init(options) {
    validateAdaptiveQueries(configFrom(options), 'estimator');
    return null;
  },
  queries(state, info, options) {
    const epoch = options.stepsPerEpoch > 0 ? Math.floor(info.step / options.stepsPerEpoch) : info.epoch;
    return { queries: queriesAtEpoch(epoch, configFrom(options)), state };
  },
};
