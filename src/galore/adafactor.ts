/**
 * Adafactor (Shazeer & Stern 2018, Alg. 4 (matrices, factored) / Alg. 5 (vectors), §7 defaults) and
 * GaLore-Adafactor (galore.md §2.10: project G, run Adafactor on R — factored, since R is 2-D —,
 * project back scaled by α). Per update of a parameter W with gradient (or projected gradient) g,
 * t = its step counter after increment:
 *   ρ_t = min(1e-2, 1/√t)  (relative step)      or the given lr when relativeStep is off
 *   lr_t = max(ε2, RMS(W)) · ρ_t                 (scaleParameter; else lr_t = ρ_t)
 *   β̂2_t = 1 − t^(−0.8)
 *   u = g² + ε1
 *   2-D: R ← β̂2 R + (1−β̂2) rowmean(u);  C ← β̂2 C + (1−β̂2) colmean(u);  V̂ = R Cᵀ / mean(R)
 *   1-D: V ← β̂2 V + (1−β̂2) u
 *   U = g / √V̂;  U ← U / max(1, RMS(U)/d);  U ← lr_t·U;  with β1: M ← β1 M + (1−β1) U, U = M
 *   W ← W − wd·lr_t·W  (before the update, as HF/GaLore adafactor.py);  W ← W − U  (GaLore: − α·back(U))
 * This follows the Hugging Face implementation the GaLore repo copies. The statistics are tiny
 * (rows + cols floats per matrix) and live on the host; they are charged to the ledger as
 * optimizer state with `ledger.allocate`. Bad input: a non-finite gradient makes the update NaN,
 * which we refuse with a ZoloError naming the parameter.
 */
import { ConfigError, ZoloError } from '../kernels/errors.ts';
import type { Param } from '../tensor/params.ts';
import type { Engine, Tensor } from '../tensor/tensor.ts';
import { ADAFACTOR_DEFAULTS, GALORE_DEFAULTS } from './defaults.ts';
import type { GaLoreSettings } from './galoreAdamW.ts';
import { stripUndefined } from './galoreAdamW.ts';
import { requireSized } from './moments.ts';
import { assertNonNegative, assertProbability, type OptimizerState, ParamWiseOptimizer } from './optimizer.ts';
import { GradientProjector, type ProjectorOptions, resolveProjectorOptions } from './projector.ts';
import { selectTargets } from './targets.ts';

/** The per-parameter statistics Adafactor keeps (checkpointed under these names). */
const MOMENT_KEYS = ['rowStats', 'colStats', 'second', 'first'] as const;

export interface AdafactorHyper {
  /** used only when relativeStep is false. */
  lr: number;
  eps1: number;
  eps2: number;
  clipThreshold: number;
  decayRate: number;
  beta1: number | null;
  relativeStep: boolean;
  scaleParameter: boolean;
  weightDecay: number;
}

export interface AdafactorOptions extends Partial<AdafactorHyper> {
  galore?: GaLoreSettings | null;
  name?: string;
}

interface AdafactorState {
  step: number;
  projector: GradientProjector | null;
  rows: number;
  cols: number;
  /** factored: row and column statistics; else the full second moment. */
  rowStats: Float32Array | null;
  colStats: Float32Array | null;
  second: Float32Array | null;
  first: Float32Array | null;
  bytes: number;
}

export class Adafactor extends ParamWiseOptimizer {
  readonly name: string;
  readonly hyper: AdafactorHyper;
  readonly scale: number;
  readonly projectorOptions: ProjectorOptions | null;
  readonly targets: ReadonlySet<Param>;
  private readonly state = new Map<Param, AdafactorState>();

  constructor(
    private readonly engine: Engine,
    params: readonly Param[],
    options: AdafactorOptions = {},
  ) {
    const hyper: AdafactorHyper = { lr: 1e-2, ...ADAFACTOR_DEFAULTS, ...stripUndefined(options) } as AdafactorHyper;
    super(params.filter((p) => p.trainable), hyper.lr);
    if (hyper.beta1 !== null) assertProbability('adafactor.beta1', hyper.beta1);
    assertNonNegative('adafactor.weightDecay', hyper.weightDecay);
    if (!(hyper.clipThreshold > 0)) throw new ConfigError(`adafactor.clipThreshold must be > 0, got ${hyper.clipThreshold}`);
    if (!(hyper.decayRate < 0)) throw new ConfigError(`adafactor.decayRate must be < 0 (β̂2_t = 1 − t^decayRate), got ${hyper.decayRate}`);
    this.hyper = hyper;
    const galore = options.galore ?? null;
    this.scale = galore?.scale ?? GALORE_DEFAULTS.scale;
    this.projectorOptions = galore ? resolveProjectorOptions(stripUndefined(galore)) : null;
    this.targets = new Set(galore ? selectTargets(this.params, galore.targetModules ?? GALORE_DEFAULTS.targetModules) : []);
    this.name = options.name ?? (galore ? 'galore-adafactor' : 'adafactor');
  }

  projectorOf(param: Param): GradientProjector | null {
    return this.state.get(param)?.projector ?? null;
  }

  stepParam(param: Param, grad: Tensor): void {
    this.assertMember(param);
    const state = this.stateFor(param);
    const weight = param.tensor;
    const projected = state.projector ? state.projector.projectForStep(grad, state.step).projected : null;
    const g = (projected ?? grad).readSync();
    projected?.dispose();
    state.step += 1;
    const t = state.step;
    const { eps1, eps2, clipThreshold, decayRate, beta1, relativeStep, scaleParameter, weightDecay } = this.hyper;
    const relative = relativeStep ? Math.min(1e-2, 1 / Math.sqrt(t)) : this.lr;
    const stepLr = scaleParameter ? Math.max(eps2, rms(weight.readSync())) * relative : relative;
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
    if (!Number.isFinite(factor)) throw new ZoloError(`adafactor: non-finite update for "${param.name}" at step ${t} (gradient not finite?)`);
    for (let i = 0; i < update.length; i++) update[i]! *= factor;
    if (beta1 !== null) {
      const first = state.first!;
      for (let i = 0; i < update.length; i++) {
        first[i] = beta1 * first[i]! + (1 - beta1) * update[i]!;
        update[i] = first[i]!;
      }
    }
    if (weightDecay !== 0) this.engine.backend.affine(weight.buffer, weight.buffer, 1 - weightDecay * stepLr, 0);
    const shape = state.projector ? state.projector.projectedShape : weight.shape;
    const delta = this.engine.fromArray(update, shape, 'workspace');
    if (state.projector) state.projector.accumulateBack(delta, weight, -this.scale);
    else this.engine.backend.axpby(-1, delta.buffer, 1, weight.buffer);
    delta.dispose();
  }

  stateBytes(): number {
    let bytes = 0;
    for (const state of this.state.values()) bytes += state.bytes + 4 * (state.projector?.basisElements ?? 0);
    return bytes;
  }

  saveState(): OptimizerState {
    return this.saveParamStates(this.state, (state) => {
      const tensors: Record<string, Float32Array> = {};
      for (const key of MOMENT_KEYS) if (state[key]) tensors[key] = Float32Array.from(state[key]);
      return tensors;
    });
  }

  loadState(saved: OptimizerState): void {
    this.loadParamStates(saved, (param) => this.stateFor(param), (state, own) => {
      for (const key of MOMENT_KEYS) state[key]?.set(requireSized(own, key, state[key].length));
    });
  }

  dispose(): void {
    for (const state of this.state.values()) {
      this.engine.ledger.release('optimizerState', state.bytes);
      state.projector?.dispose();
    }
    this.state.clear();
  }

  private stateFor(param: Param): AdafactorState {
    let state = this.state.get(param);
    if (state) return state;
    const projector = this.targets.has(param)
      ? new GradientProjector(this.engine, param.name, param.tensor.shape, this.projectorOptions!, param.index)
      : null;
    const shape = projector ? projector.projectedShape : param.tensor.shape;
    const factored = shape.length === 2;
    const rows = factored ? shape[0]! : 1;
    const cols = factored ? shape[1]! : shape.reduce((a, b) => a * b, 1);
    const size = rows * cols;
    state = {
      step: 0,
      projector,
      rows,
      cols,
      rowStats: factored ? new Float32Array(rows) : null,
      colStats: factored ? new Float32Array(cols) : null,
      second: factored ? null : new Float32Array(size),
      first: this.hyper.beta1 !== null ? new Float32Array(size) : null,
      bytes: 4 * ((factored ? rows + cols : size) + (this.hyper.beta1 !== null ? size : 0)),
    };
    this.engine.ledger.allocate('optimizerState', state.bytes);
    this.state.set(param, state);
    return state;
  }
}

function rms(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return Math.sqrt(sum / Math.max(values.length, 1));
}
