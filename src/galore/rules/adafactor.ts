/**
 * Adafactor (Shazeer & Stern 2018, Alg. 4 (matrices, factored) / Alg. 5 (vectors), §7 defaults) as
 * an update rule, following the Hugging Face implementation GaLore's code copies. Per update of a
 * tensor with gradient g (under GaLore: the projected gradient), t = its update count:
 *   ρ_t = min(1e-2, 1/√t)  (relative step)      or the scheduled η when relativeStep is off
 *   s_t = max(ε2, RMS(θ)) · ρ_t                  (scaleParameter; else s_t = ρ_t)
 *   β̂2_t = 1 − t^(−0.8)
 *   q = g² + ε1
 *   2-D: R ← β̂2 R + (1−β̂2) rowmean(q);  C ← β̂2 C + (1−β̂2) colmean(q);  V̂ = R Cᵀ / mean(R)
 *   1-D: V ← β̂2 V + (1−β̂2) q
 *   U = g / √V̂;  U ← U / max(1, RMS(U)/d);  U ← s_t·U;  with β1: M ← β1 M + (1−β1) U, U = M
 *   θ ← (1 − s_t·λ)θ  (before the move, as HF adafactor.py);  θ ← θ − U
 * V̂ = R Cᵀ / mean(R) is the rank-1 factorisation that minimises the I-divergence to the full
 * second moment (§3, Alg. 4) and equals it exactly when the squared gradient is rank 1.
 * The statistics are tiny (rows + cols floats per matrix) and live on the host, charged to the
 * ledger as optimizer state with `ledger.allocate`; the gradient and RMS(θ) are read with
 * `await read()`. Bad input: a non-finite gradient makes the update non-finite, which is a
 * DivergenceError naming the parameter (the run is marked diverged).
 */
import { assertNonNegative, assertPositive, assertProbability, ConfigError, describeValue, DivergenceError } from '../../errors.ts';
import type { Engine, Shape } from '../../tensor/tensor.ts';
import { ADAFACTOR_DEFAULTS } from '../defaults.ts';
import { requireSized } from '../moments.ts';
import type { RuleDefinition } from '../registry.ts';
import type { UpdateRule } from '../rule.ts';

export interface AdafactorHyper {
  eps1: number;
  eps2: number;
  clipThreshold: number;
  decayRate: number;
  beta1: number | null;
  relativeStep: boolean;
  scaleParameter: boolean;
}

/** One tensor's statistics (checkpointed under these names). */
interface AdafactorState {
  rows: number;
  cols: number;
  /** factored: row and column statistics R, C; else the full second moment V. */
  rowStats: Float32Array | null;
  colStats: Float32Array | null;
  second: Float32Array | null;
  first: Float32Array | null;
  bytes: number;
  engine: Engine;
}

const STATISTICS = ['rowStats', 'colStats', 'second', 'first'] as const;

/** `options.<key>` (an object of Adafactor settings) over ADAFACTOR_DEFAULTS, validated. */
export function resolveAdafactor(settings: unknown, key: string): AdafactorHyper {
  if (settings !== undefined && (settings === null || typeof settings !== 'object')) {
    throw new ConfigError(`options.${key} must be an object of Adafactor settings, got ${describeValue(settings)}`);
  }
  const hyper: AdafactorHyper = { ...ADAFACTOR_DEFAULTS, ...(settings as Partial<AdafactorHyper> | undefined) };
  if (hyper.beta1 !== null) assertProbability(`options.${key}.beta1`, hyper.beta1);
  assertNonNegative(`options.${key}.eps1`, hyper.eps1);
  assertNonNegative(`options.${key}.eps2`, hyper.eps2);
  assertPositive(`options.${key}.clipThreshold`, hyper.clipThreshold);
  if (!(hyper.decayRate < 0)) throw new ConfigError(`options.${key}.decayRate must be < 0 (β̂2_t = 1 − t^decayRate), got ${hyper.decayRate}`);
  return hyper;
}

export function adafactorRule(hyper: AdafactorHyper): UpdateRule<AdafactorState> {
  return {
    name: 'adafactor',
    decayBeforeUpdate: true,
    init(engine, shape) {
      const factored = shape.length === 2;
      const rows = factored ? shape[0]! : 1;
      const cols = factored ? shape[1]! : shape.reduce((a, b) => a * b, 1);
      const size = rows * cols;
      const state: AdafactorState = {
        rows,
        cols,
        rowStats: factored ? new Float32Array(rows) : null,
        colStats: factored ? new Float32Array(cols) : null,
        second: factored ? null : new Float32Array(size),
        first: hyper.beta1 !== null ? new Float32Array(size) : null,
        bytes: 4 * ((factored ? rows + cols : size) + (hyper.beta1 !== null ? size : 0)),
        engine,
      };
      engine.ledger.allocate('optimizerState', state.bytes);
      return state;
    },
    async update(grad, state, ctx) {
      const g = await grad.read();
      const t = ctx.step;
      const { eps1, eps2, clipThreshold, decayRate, beta1, relativeStep, scaleParameter } = hyper;
      const relative = relativeStep ? Math.min(1e-2, 1 / Math.sqrt(t)) : ctx.lr;
      const stepLr = scaleParameter ? Math.max(eps2, rms(await ctx.param.tensor.read())) * relative : relative;
      const beta2 = 1 - t ** decayRate;
      const update = new Float32Array(g.length);
      if (state.rowStats && state.colStats) {
        const { rows, cols, rowStats, colStats } = state;
        const rowMean = new Float64Array(rows);
        const colMean = new Float64Array(cols);
        for (let i = 0; i < rows; i++) {
          for (let j = 0; j < cols; j++) {
            const u = g[i * cols + j]! * g[i * cols + j]! + eps1;
            rowMean[i]! += u / cols;
            colMean[j]! += u / rows;
          }
        }
        let rowAverage = 0;
        for (let i = 0; i < rows; i++) {
          rowStats[i] = beta2 * rowStats[i]! + (1 - beta2) * rowMean[i]!;
          rowAverage += rowStats[i]! / rows;
        }
        for (let j = 0; j < cols; j++) colStats[j] = beta2 * colStats[j]! + (1 - beta2) * colMean[j]!;
        for (let i = 0; i < rows; i++) {
          const rowFactor = 1 / Math.sqrt(rowStats[i]! / rowAverage);
          for (let j = 0; j < cols; j++) update[i * cols + j] = g[i * cols + j]! * rowFactor / Math.sqrt(colStats[j]!);
        }
      } else {
        const second = state.second!;
        for (let i = 0; i < g.length; i++) {
          second[i] = beta2 * second[i]! + (1 - beta2) * (g[i]! * g[i]! + eps1);
          update[i] = g[i]! / Math.sqrt(second[i]!);
        }
      }
      const clip = Math.max(1, rms(update) / clipThreshold);
      const factor = stepLr / clip;
      if (!Number.isFinite(factor)) {
        throw new DivergenceError(`adafactor: non-finite update for "${ctx.param.name}" at its update ${t} (gradient not finite?)`, t - 1);
      }
      for (let i = 0; i < update.length; i++) update[i]! *= factor;
      if (beta1 !== null) {
        const first = state.first!;
        for (let i = 0; i < update.length; i++) {
          first[i] = beta1 * first[i]! + (1 - beta1) * update[i]!;
          update[i] = first[i]!;
        }
      }
      const direction = ctx.engine.fromArray(update, grad.shape, 'workspace');
      return { direction, stepSize: 1, decayLr: stepLr, release: () => direction.dispose() };
    },
    reset(state) {
      for (const key of STATISTICS) state[key]?.fill(0);
    },
    stateBytes: (state) => state.bytes,
    async save(state) {
      const tensors: Record<string, Float32Array> = {};
      for (const key of STATISTICS) if (state[key]) tensors[key] = Float32Array.from(state[key]);
      return { tensors };
    },
    load(state, saved) {
      for (const key of STATISTICS) state[key]?.set(requireSized(saved.tensors, key, state[key].length));
    },
    dispose: (state) => state.engine.ledger.release('optimizerState', state.bytes),
  };
}

/** Elements of Adafactor's statistics for one tensor: rows + cols (2-D) or all (otherwise), plus a first moment with β1. */
export function adafactorStateSize(shape: Shape, elementBytes: number, withFirstMoment: boolean): { moments: number; factored: number; bytes: number } {
  const elements = shape.reduce((a, b) => a * b, 1);
  const factored = shape.length === 2 ? shape[0]! + shape[1]! : elements;
  const moments = withFirstMoment ? elements : 0;
  return { moments, factored, bytes: elementBytes * (factored + moments) };
}

export function rms(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.sqrt(sum / Math.max(values.length, 1));
}

export const adafactor: RuleDefinition = {
  name: 'adafactor',
  description: 'Adafactor: factored second moment, relative step, update clipping',
  reference: 'Shazeer & Stern 2018, arXiv:1804.04235, Alg. 4/5; Hugging Face adafactor.py (GaLore\'s copy)',
  defaultLr: 1e-2,
  // HF Adafactor's weight_decay default
  defaultWeightDecay: 0,
  options: { adafactor: Object.keys(ADAFACTOR_DEFAULTS) },
  create: (options) => adafactorRule(resolveAdafactor(options.adafactor, 'adafactor')),
  stateSize: (shape, elementBytes, options) =>
    adafactorStateSize(shape, elementBytes, resolveAdafactor(options.adafactor, 'adafactor').beta1 !== null),
};
