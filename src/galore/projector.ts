/**
 * GaLore's gradient projector (Zhao et al. 2024, Def. 3.6 / Alg. 2; galore.md §2.2–2.3, §6.1–6.4).
 *
 * For a gradient G (m×n) it keeps an orthonormal basis of rank k = min(r, m, n):
 *   left  side: P = U[:, :k] (m×k),  R = PᵀG (k×n),   back(N) = P·N
 *   right side: Qᵀ = Vh[:k, :] (k×n), R = G·Q (m×k),   back(N) = N·Qᵀ
 *   full      : both,                R = PᵀGQ (k×k),   back(N) = P·N·Qᵀ
 * chosen by the projection type (the `std` rule keeps moments on the larger side: right when m ≥ n,
 * left when m < n; `reverse_std` the opposite; galore.md §2.2 table). The side is stored, never
 * re-derived from shapes (the reference's shape test fails for wide matrices when r ≥ m; §2.2).
 *
 * The basis is recomputed from the current gradient's top-k SVD when the parameter's step
 * counter *before* its increment is 0 mod T (updates 1, T+1, 2T+1, … 1-indexed; §2.3), or, with
 * the adaptive gap, when the captured energy ‖R‖²_F/‖G‖²_F of the current basis falls below a
 * threshold times what it captured right after its refresh (zolo's extension). Projection and back-projection run every step on the backend
 * (matmul); only the SVD runs on the host. The basis is charged to the ledger as optimizer state
 * (the paper counts it there; §4.1).
 *
 * Bad input: a NaN/Inf gradient at a refresh either throws a DivergenceError (default; the run is
 * marked diverged) or keeps the old basis (`onNonFinite: 'skip'`; §6.18). Tolerances: P is
 * orthonormal to float32 rounding (~1e-6). The refresh and the adaptive check read the gradient
 * on the host with `await read()`, so they work on asynchronous backends too.
 */
import { ConfigError, DivergenceError, assertOneOf, assertPositiveInteger } from '../errors.ts';
import { BuiltinNoisePurpose, noiseKey } from '../kernels/noiseStreams.ts';
import type { Engine, Tensor } from '../tensor/tensor.ts';
import { ADAPTIVE_GAP_DEFAULTS, defaultGaLoreRank, GALORE_DEFAULTS, RANDOMIZED_SVD_DEFAULTS } from './defaults.ts';
import { requireSized } from './moments.ts';
import { exactTopSvd, type MatrixProducts, randomizedTopSvd, type TopSingular } from './svd.ts';

export const PROJECTION_TYPES = ['std', 'reverse_std', 'left', 'right', 'full'] as const;
export type ProjectionType = (typeof PROJECTION_TYPES)[number];
export type ProjectionSide = 'left' | 'right' | 'full';
export const SVD_METHODS = ['exact', 'randomized'] as const;
export type SvdMethod = (typeof SVD_METHODS)[number];

export interface AdaptiveGapOptions {
  /**
   * refresh when the captured fraction ‖PᵀG‖²/‖G‖² (or ‖GQ‖²/‖G‖²) drops below threshold × the
   * fraction captured right after the last refresh, in (0, 1].
   */
  threshold: number;
  /** measure the captured energy every this many steps (it costs one host read of G). */
  checkEvery: number;
  /** refresh at least every this many steps regardless. */
  maxGap: number;
}

export interface ProjectorOptions {
  /** r, capped per matrix at min(m, n); null = defaultGaLoreRank(m, n), a quarter of the smaller side. */
  rank: number | null;
  /** T: steps between refreshes (ignored when `adaptive` is set). */
  updateGap: number;
  type: ProjectionType;
  svd: SvdMethod;
  oversampling: number;
  powerIterations: number;
  seed: number;
  onNonFinite: 'throw' | 'skip';
  adaptive: AdaptiveGapOptions | null;
}

export const DEFAULT_PROJECTOR_OPTIONS: ProjectorOptions = {
  rank: null,
  updateGap: GALORE_DEFAULTS.updateGap,
  type: GALORE_DEFAULTS.projectionType,
  svd: 'exact',
  oversampling: RANDOMIZED_SVD_DEFAULTS.oversampling,
  powerIterations: RANDOMIZED_SVD_DEFAULTS.powerIterations,
  seed: RANDOMIZED_SVD_DEFAULTS.seed,
  onNonFinite: 'throw',
  adaptive: null,
};

/** Validates user options (names the field and the allowed values) and fills defaults. */
export function resolveProjectorOptions(options: Partial<ProjectorOptions> = {}): ProjectorOptions {
  const resolved = { ...DEFAULT_PROJECTOR_OPTIONS, ...options };
  if (resolved.rank !== null) assertPositiveInteger('galore.rank', resolved.rank);
  assertPositiveInteger('galore.updateGap (T)', resolved.updateGap);
  assertOneOf('galore.type', resolved.type, PROJECTION_TYPES);
  assertOneOf('galore.svd', resolved.svd, SVD_METHODS);
  assertOneOf('galore.onNonFinite', resolved.onNonFinite, ['throw', 'skip'] as const);
  if (!Number.isInteger(resolved.oversampling) || resolved.oversampling < 0) {
    throw new ConfigError(`galore.oversampling must be a non-negative integer, got ${resolved.oversampling}`);
  }
  if (!Number.isInteger(resolved.powerIterations) || resolved.powerIterations < 0) {
    throw new ConfigError(`galore.powerIterations must be a non-negative integer, got ${resolved.powerIterations}`);
  }
  if (resolved.adaptive) {
    const adaptive = { ...ADAPTIVE_GAP_DEFAULTS, ...resolved.adaptive };
    if (!(adaptive.threshold > 0 && adaptive.threshold <= 1)) {
      throw new ConfigError(`galore.adaptive.threshold must be in (0, 1], got ${adaptive.threshold}`);
    }
    assertPositiveInteger('galore.adaptive.checkEvery', adaptive.checkEvery);
    assertPositiveInteger('galore.adaptive.maxGap', adaptive.maxGap);
    resolved.adaptive = adaptive;
  }
  return resolved;
}

/** The side the projection type selects for an m×n matrix (galore.md §2.2 table; m = n → right under std). */
export function chooseSide(type: ProjectionType, m: number, n: number): ProjectionSide {
  switch (type) {
    case 'std':
      return m >= n ? 'right' : 'left';
    case 'reverse_std':
      return m >= n ? 'left' : 'right';
    default:
      return type;
  }
}

/** Shape of the projected gradient R (and of the moments) for an m×n matrix. */
export function projectedShape(side: ProjectionSide, m: number, n: number, k: number): [number, number] {
  if (side === 'left') return [k, n];
  if (side === 'right') return [m, k];
  return [k, k];
}

export interface ProjectorCounters {
  svdCalls: number;
  skippedRefreshes: number;
  lastRefreshStep: number;
  energyAtRefresh: number;
}

export class GradientProjector {
  readonly side: ProjectionSide;
  /** k = min(r, m, n). */
  readonly rank: number;
  readonly rows: number;
  readonly cols: number;
  /** P (m×k), present for left/full. */
  readonly left: Tensor | null;
  /** Qᵀ = Vhₖ (k×n), present for right/full. */
  readonly rightT: Tensor | null;
  /** number of SVDs computed (refreshes that happened). */
  svdCalls = 0;
  /** refreshes skipped because the gradient was not finite (onNonFinite 'skip'). */
  skippedRefreshes = 0;
  /** pre-increment step of the last refresh (−1: none yet). */
  lastRefreshStep = -1;
  /** captured-energy fraction at the last adaptive check (NaN before any). */
  lastCapturedEnergy = Number.NaN;
  /** captured-energy fraction of the gradient the basis was computed from (adaptive gap's baseline). */
  energyAtRefresh = 1;

  constructor(
    private readonly engine: Engine,
    /** parameter name, for error messages. */
    readonly name: string,
    shape: readonly number[],
    readonly options: ProjectorOptions,
    /** stable id for the randomized SVD's noise stream (the parameter's index). */
    private readonly streamIndex: number,
  ) {
    if (shape.length !== 2) throw new ConfigError(`GaLore projector for "${name}": needs a 2-D parameter, got shape [${shape.join(', ')}]`);
    const [m, n] = shape as [number, number];
    this.rows = m;
    this.cols = n;
    this.rank = options.rank === null ? defaultGaLoreRank(m, n) : Math.min(options.rank, m, n);
    this.side = chooseSide(options.type, m, n);
    this.left = this.side === 'right' ? null : engine.zeros([m, this.rank], 'optimizerState');
    this.rightT = this.side === 'left' ? null : engine.zeros([this.rank, n], 'optimizerState');
  }

  get projectedShape(): [number, number] {
    return projectedShape(this.side, this.rows, this.cols, this.rank);
  }

  /** Elements held by the basis (a·k for one-sided, (m+n)·k for full; galore.md §4.1). */
  get basisElements(): number {
    return (this.left?.size ?? 0) + (this.rightT?.size ?? 0);
  }

  /**
   * The projected gradient for the update whose pre-increment step counter is `step`, refreshing the
   * basis first when the schedule says so. Returns a workspace tensor the caller disposes.
   */
  async projectForStep(grad: Tensor, step: number): Promise<{ projected: Tensor; refreshed: boolean }> {
    const adaptive = this.options.adaptive;
    const due = this.lastRefreshStep < 0
      || (adaptive ? step - this.lastRefreshStep >= adaptive.maxGap : step % this.options.updateGap === 0);
    let refreshed = due && (await this.refresh(grad, step));
    let projected = this.project(grad);
    if (!refreshed && adaptive && (step - this.lastRefreshStep) % adaptive.checkEvery === 0) {
      this.lastCapturedEnergy = await capturedEnergy(projected, grad);
      if (this.lastCapturedEnergy < adaptive.threshold * this.energyAtRefresh && (await this.refresh(grad, step))) {
        refreshed = true;
        projected.dispose();
        projected = this.project(grad);
      }
    }
    // the energy a fresh basis captures of its own gradient (Σᵢ≤ₖ σᵢ² / Σ σᵢ²) is the baseline the
    // adaptive rule compares with: a rank-k basis can never capture more of a higher-rank gradient
    if (refreshed && adaptive) this.energyAtRefresh = await capturedEnergy(projected, grad);
    return { projected, refreshed };
  }

  /** Recomputes the basis from `grad`'s top-k SVD. Resolves false when skipped (non-finite gradient). */
  async refresh(grad: Tensor, step: number): Promise<boolean> {
    const values = await grad.read();
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i]!)) {
        if (this.options.onNonFinite === 'throw' || this.lastRefreshStep < 0) {
          throw new DivergenceError(
            `GaLore projector for "${this.name}": gradient has a non-finite value (element ${i} = ${values[i]}) at step ${step + 1}; ` +
              `the SVD cannot run on it${this.lastRefreshStep < 0 ? ' and there is no previous basis to keep' : ' (set galore.onNonFinite to "skip" to keep the old basis)'}`,
            step,
          );
        }
        this.skippedRefreshes++;
        return false;
      }
    }
    const want = { left: this.left !== null, right: this.rightT !== null };
    const top: TopSingular = this.options.svd === 'exact'
      ? exactTopSvd(values, this.rows, this.cols, this.rank, want)
      : await randomizedTopSvd(this.backendProducts(grad), this.rows, this.cols, this.rank, want, {
        oversampling: this.options.oversampling,
        powerIterations: this.options.powerIterations,
        // a fresh test matrix per refresh, reproducible from (seed, parameter, refresh number)
        key: noiseKey((this.options.seed + Math.imul(this.svdCalls + 1, 0x9e3779b1)) >>> 0, this.streamIndex, BuiltinNoisePurpose.galoreRandomizedSvd),
      });
    if (this.left) this.engine.backend.write(this.left.buffer, Float32Array.from(top.left!));
    if (this.rightT) this.engine.backend.write(this.rightT.buffer, Float32Array.from(top.rightT!));
    this.svdCalls++;
    this.lastRefreshStep = step;
    return true;
  }

  /**
   * G·X and Gᵀ·X on the backend for the range finder: its products are the refresh's O(mn(k+p))
   * work, which the host's float64 loops made minutes long on a 100M-class model's matrices.
   */
  private backendProducts(grad: Tensor): MatrixProducts {
    const { engine, rows: m, cols: n } = this;
    const multiply = async (x: Float64Array, cols: number, transA: boolean): Promise<Float64Array> => {
      const input = engine.fromArray(Float32Array.from(x), [transA ? m : n, cols], 'workspace');
      const out = engine.zeros([transA ? n : m, cols], 'workspace');
      engine.backend.matmul(grad.buffer, input.buffer, out.buffer, { batch: 1, m: transA ? n : m, n: cols, k: transA ? m : n, transA });
      const values = Float64Array.from(await out.read());
      input.dispose();
      out.dispose();
      return values;
    };
    return { times: (x, cols) => multiply(x, cols, false), transposeTimes: (x, cols) => multiply(x, cols, true) };
  }

  /** R = PᵀG, GQ or PᵀGQ (workspace tensor of `projectedShape`). */
  project(grad: Tensor): Tensor {
    const backend = this.engine.backend;
    const { rows: m, cols: n, rank: k } = this;
    if (this.side === 'right') {
      const out = this.engine.zeros([m, k], 'workspace');
      backend.matmul(grad.buffer, this.rightT!.buffer, out.buffer, { batch: 1, m, n: k, k: n, transB: true });
      return out;
    }
    const leftProjected = this.engine.zeros([k, n], 'workspace');
    backend.matmul(this.left!.buffer, grad.buffer, leftProjected.buffer, { batch: 1, m: k, n, k: m, transA: true });
    if (this.side === 'left') return leftProjected;
    const out = this.engine.zeros([k, k], 'workspace');
    backend.matmul(leftProjected.buffer, this.rightT!.buffer, out.buffer, { batch: 1, m: k, n: k, k: n, transB: true });
    leftProjected.dispose();
    return out;
  }

  /** target ← target + alpha·back(low), with back(N) = P·N, N·Qᵀ or P·N·Qᵀ; no m×n temporary for one-sided types. */
  accumulateBack(low: Tensor, target: Tensor, alpha: number): void {
    const backend = this.engine.backend;
    const { rows: m, cols: n, rank: k } = this;
    if (this.side === 'left') {
      backend.matmul(this.left!.buffer, low.buffer, target.buffer, { batch: 1, m, n, k, alpha, accumulate: true });
    } else if (this.side === 'right') {
      backend.matmul(low.buffer, this.rightT!.buffer, target.buffer, { batch: 1, m, n, k, alpha, accumulate: true });
    } else {
      const half = this.engine.zeros([m, k], 'workspace');
      backend.matmul(this.left!.buffer, low.buffer, half.buffer, { batch: 1, m, n: k, k });
      backend.matmul(half.buffer, this.rightT!.buffer, target.buffer, { batch: 1, m, n, k, alpha, accumulate: true });
      half.dispose();
    }
  }

  /** Basis and counters, for checkpoints. */
  async save(): Promise<{ json: ProjectorCounters; tensors: Record<string, Float32Array> }> {
    const tensors: Record<string, Float32Array> = {};
    if (this.left) tensors.P = await this.left.read();
    if (this.rightT) tensors.Qt = await this.rightT.read();
    return { json: { svdCalls: this.svdCalls, skippedRefreshes: this.skippedRefreshes, lastRefreshStep: this.lastRefreshStep, energyAtRefresh: this.energyAtRefresh }, tensors };
  }

  load(json: ProjectorCounters, tensors: Record<string, Float32Array>): void {
    if (this.left) this.engine.backend.write(this.left.buffer, requireSized(tensors, 'P', this.left.size));
    if (this.rightT) this.engine.backend.write(this.rightT.buffer, requireSized(tensors, 'Qt', this.rightT.size));
    this.svdCalls = json.svdCalls;
    this.skippedRefreshes = json.skippedRefreshes;
    this.lastRefreshStep = json.lastRefreshStep;
    this.energyAtRefresh = json.energyAtRefresh;
  }

  dispose(): void {
    this.left?.dispose();
    this.rightT?.dispose();
  }
}

/** ‖R‖²_F / ‖G‖²_F in float64 (1 for a zero gradient: nothing is lost). */
export async function capturedEnergy(projected: Tensor, grad: Tensor): Promise<number> {
  const total = sumOfSquares(await grad.read());
  return total === 0 ? 1 : sumOfSquares(await projected.read()) / total;
}

function sumOfSquares(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  return sum;
}
