/**
 * Low-rank gradients over training (GaLore's and LOZO's premise) and the PL indicator along the
 * same trajectory, from one short AdamW run (backprop, the tape's minibatch gradients):
 *
 *   for t = 0 … steps: G_t ← tape gradient on minibatch t; at snapshot steps analyse every 2-D
 *   trainable weight's G_t; if t < steps, AdamW step on G_t.
 *
 * Per weight and snapshot: singular values, stable rank ‖G‖_F²/‖G‖₂², the best energy a rank-r
 * projector can keep (Eckart–Young), and, against every earlier snapshot s, the drift of the
 * rank-r subspace: overlap ‖P_sᵀP_t‖_F²/r and the energy of G_t the stale projector P_s keeps,
 * ‖P_sᵀG_t‖_F²/‖G_t‖_F² — what a GaLore projector refreshed every T = t − s steps would lose.
 * The projector acts on the smaller side (GaLore's `std` rule: right singular vectors when m ≥ n),
 * so its overlap with a random subspace would be r/min(m, n).
 *
 * PL: at each snapshot, f and ‖∇f‖² on the check's fixed batch (one objective, so the points are
 * comparable), then plIndicator with f* = 0 (cross-entropy ≥ 0; a lower f* only lowers μ).
 * The run changes the model's weights: run it after the checks that need the starting point.
 */
import { bestRankEnergy, capturedEnergy, leftSubspace, type MatrixView, singularValues, stableRank, subspaceOverlap } from '../../assumptions/lowRank.ts';
import { plIndicator, type PlIndicator, type TrajectoryPoint } from '../../assumptions/pl.ts';
import '../../galore/builtins.ts';
import { TORCH_ADAMW_DEFAULTS } from '../../galore/defaults.ts';
import { createOptimizer } from '../../galore/registry.ts';
import { ConfigError } from '../../errors.ts';
import { disposeGrads } from '../../nn/tape.ts';
import type { Param } from '../../tensor/params.ts';
import type { Matrix } from 'ml-matrix';
import type { BoundObjective } from './problem.ts';
import type { Batch, Workload } from '../workload.ts';

export interface SnapshotAnalysis {
  step: number;
  stableRank: number;
  /** largest singular values, descending (at most `keep`). */
  singularValues: number[];
  /** best energy fraction at each rank r. */
  energyAtRank: Record<number, number>;
}

export interface DriftMeasure {
  /** step whose projector is reused. */
  from: number;
  /** step whose gradient it is applied to. */
  to: number;
  rank: number;
  /** ‖P_fromᵀP_to‖_F²/r ∈ [0, 1]. */
  overlap: number;
  /** ‖P_fromᵀG_to‖_F²/‖G_to‖_F²: energy the stale projector keeps. */
  captured: number;
  /** best possible at this rank (P_to itself). */
  best: number;
}

export interface LayerGradientRank {
  name: string;
  group: string;
  rows: number;
  cols: number;
  /** 'right' when rows ≥ cols (projector on the n side), else 'left'. */
  side: 'left' | 'right';
  snapshots: SnapshotAnalysis[];
  drift: DriftMeasure[];
}

export interface LowRankTrajectory {
  optimizer: 'adamw';
  lr: number;
  steps: number;
  batch: number;
  ranks: number[];
  snapshotSteps: number[];
  /** minibatch training loss per step (before that step's update). */
  trainLoss: number[];
  layers: LayerGradientRank[];
  /** f and ‖∇f‖² on the fixed check batch at each snapshot. */
  points: TrajectoryPoint[];
  pl: PlIndicator;
  fStar: number;
}

export interface TrajectoryOptions {
  steps: number;
  lr: number;
  batch: number;
  snapshots: number;
  ranks: readonly number[];
  keep: number;
  seed: number;
  progress?: (line: string) => void;
}

/** Snapshot steps: 0, 1, then every ⌈steps/snapshots⌉, always including `steps`. */
export function snapshotSteps(steps: number, snapshots: number): number[] {
  const every = Math.max(1, Math.ceil(steps / Math.max(1, snapshots)));
  const out = new Set<number>([0, Math.min(1, steps), steps]);
  for (let t = every; t < steps; t += every) out.add(t);
  return [...out].sort((a, b) => a - b);
}

/** Minibatch t: B consecutive training indices from a seed-dependent offset, cycling. */
export function trainingBatch(step: number, batch: number, trainSize: number, seed: number): Batch {
  const start = (seed * 7919 + step * batch) % trainSize;
  return Array.from({ length: batch }, (_, i) => (start + i) % trainSize);
}

function viewOf(param: Param, values: Float32Array): { view: MatrixView; side: 'left' | 'right' } {
  const rows = param.tensor.shape[0]!;
  const cols = param.tensor.size / rows;
  if (rows < cols) return { view: { rows, cols, values }, side: 'left' };
  // GaLore `std`: project the smaller (column) side, i.e. the left subspace of Gᵀ
  const transposed = new Float32Array(values.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) transposed[j * rows + i] = values[i * cols + j]!;
  return { view: { rows: cols, cols: rows, values: transposed }, side: 'right' };
}

async function squaredGradientNorm(objective: BoundObjective): Promise<TrajectoryPoint & { step: -1 }> {
  const { loss, gradients } = await objective.lossAndGradients();
  let acc = 0;
  for (const grad of gradients.values()) for (const x of await grad.read()) acc += x * x;
  disposeGrads(gradients);
  return { step: -1, loss, gradientNormSquared: acc };
}

export async function lowRankTrajectory(workload: Workload, fixed: BoundObjective, options: TrajectoryOptions): Promise<LowRankTrajectory> {
  const { steps, lr, batch, ranks, keep, seed } = options;
  if (!Number.isInteger(steps) || steps < 1) throw new ConfigError(`steps must be a positive integer, got ${steps}`);
  if (!workload.lossAndGradients) throw new ConfigError('this task/model has no tape gradients; the low-rank check trains with backprop');
  const matrices = workload.params.trainable().filter((p) => p.tensor.rank === 2);
  if (matrices.length === 0) throw new ConfigError('the model has no trainable 2-D weights to analyse');
  const maxRank = Math.max(...ranks);
  const wanted = snapshotSteps(steps, options.snapshots);
  const layers: LayerGradientRank[] = matrices.map((param) => {
    const rows = param.tensor.shape[0]!;
    const cols = param.tensor.size / rows;
    return { name: param.name, group: param.group, rows, cols, side: rows < cols ? 'left' : 'right', snapshots: [], drift: [] };
  });
  const bases: Map<number, Matrix>[] = matrices.map(() => new Map());
  const points: TrajectoryPoint[] = [];
  const trainLoss: number[] = [];
  const { beta1, beta2, eps, weightDecay, decayMatricesOnly } = TORCH_ADAMW_DEFAULTS;
  const optimizer = createOptimizer('adamw', workload.params, { lr, beta1, beta2, eps, weightDecay, decayMatricesOnly });
  try {
    for (let step = 0; step <= steps; step++) {
      const { loss, gradients } = await workload.lossAndGradients(trainingBatch(step, batch, workload.trainSize, seed));
      trainLoss.push(loss);
      try {
        if (wanted.includes(step)) {
          for (const [k, param] of matrices.entries()) {
            const grad = gradients.get(param);
            if (!grad) continue;
            const { view } = viewOf(param, await grad.read());
            const sigmas = singularValues(view);
            const energyAtRank: Record<number, number> = {};
            for (const r of ranks) energyAtRank[r] = bestRankEnergy(sigmas, r);
            layers[k]!.snapshots.push({ step, stableRank: stableRank(sigmas), singularValues: sigmas.slice(0, keep), energyAtRank });
            const rankHere = Math.min(maxRank, view.rows, view.cols);
            const basis = leftSubspace(view, rankHere);
            for (const [from, earlier] of bases[k]!) {
              for (const r of ranks.filter((rank) => rank <= rankHere)) {
                const stale = earlier.subMatrixColumn([...Array(r).keys()]);
                layers[k]!.drift.push({
                  from, to: step, rank: r,
                  overlap: subspaceOverlap(stale, basis.subMatrixColumn([...Array(r).keys()])),
                  captured: capturedEnergy(view, stale),
                  best: energyAtRank[r]!,
                });
              }
            }
            bases[k]!.set(step, basis);
          }
          const point = await squaredGradientNorm(fixed);
          points.push({ ...point, step });
          options.progress?.(`low-rank: step ${step}/${steps}  train loss ${loss.toFixed(4)}  fixed-batch loss ${point.loss.toFixed(4)}  ‖∇f‖² ${point.gradientNormSquared.toExponential(3)}`);
        }
        if (step < steps) await optimizer.step(gradients);
      } finally {
        disposeGrads(gradients);
      }
    }
  } finally {
    optimizer.dispose();
  }
  const fStar = 0;
  return { optimizer: 'adamw', lr, steps, batch, ranks: [...ranks], snapshotSteps: wanted, trainLoss, layers, points, pl: plIndicator(points, fStar), fStar };
}
