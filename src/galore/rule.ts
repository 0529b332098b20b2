/**
 * The backprop path's unit of composition (optax's GradientTransformation, per tensor): an update
 * rule turns one tensor's gradient into a direction u and says how far to move along it; the
 * shared stage `applyUpdate` does the decoupled weight decay and the move,
 *     θ ← θ − s·u,  and  θ ← (1 − η_d·λ)θ  before or after it,
 * with s = `stepSize` and η_d = `decayLr` from the rule. AdamW, Adafactor and AdaLomo are rules
 * (src/galore/rules); GaLore is a wrapper of any rule (galore.ts); RuleOptimizer (ruleOptimizer.ts)
 * runs a rule over a parameter list, normally or from the tape's per-parameter hook.
 *
 * A rule is a description plus pure-ish functions over an explicit per-tensor state, which the
 * caller holds: `init` allocates it (charged to the ledger as optimizerState), `update` advances it.
 * Rules are asynchronous because some read their input on the host (8-bit states, Adafactor's
 * statistics), which an asynchronous backend only gives through `await read()`.
 */
import type { Param } from '../tensor/params.ts';
import type { Engine, Shape, Tensor } from '../tensor/tensor.ts';

/** What a rule sees at one update of one tensor. */
export interface RuleContext {
  readonly engine: Engine;
  /** the scheduled learning rate η of this step. */
  readonly lr: number;
  /** 1-based count of this tensor's updates, this one included (bias correction, β̂2_t). */
  readonly step: number;
  /** the parameter being updated, at its values before this update (Adafactor scales by RMS(θ)). */
  readonly param: Param;
}

/** One rule's update of one tensor: u in the shape of the gradient it was given. */
export interface RuleUpdate {
  /** u (a workspace tensor, freed by `release`). */
  readonly direction: Tensor;
  /** s: the parameter moves by −s·u (AdamW: η; Adafactor: 1, its u already carries its step size). */
  readonly stepSize: number;
  /** η_d: decoupled weight decay multiplies θ by 1 − η_d·λ (AdamW: η; Adafactor: its step size ρ_t). */
  readonly decayLr: number;
  /** target ← target + alpha·u in the parameter's shape; absent, u already has it (GaLore back-projects here). */
  addTo?(target: Tensor, alpha: number): void;
  /** frees u and whatever else the update holds. */
  release(): void;
}

/** Checkpoint form of one tensor's rule state: named float arrays plus JSON fields for the parameter's entry. */
export interface SavedRuleState {
  tensors: Record<string, Float32Array>;
  json?: Record<string, unknown>;
}

export interface UpdateRule<State = unknown> {
  readonly name: string;
  /**
   * Decoupled decay before the move (Hugging Face Adafactor, which GaLore's code copies) instead of
   * after it (Hugging Face AdamW, GaLore's copy; galore.md §2.7): the two differ by O(η²λ).
   */
  readonly decayBeforeUpdate: boolean;
  /** Called once with every parameter the optimizer updates (GaLore picks its targets). */
  prepare?(params: readonly Param[]): void;
  /** State for `param`, whose gradients this rule receives in `shape`. */
  init(engine: Engine, shape: Shape, param: Param): State;
  update(grad: Tensor, state: State, ctx: RuleContext): Promise<RuleUpdate>;
  /**
   * Optional fused fast path: the whole step of this tensor (update, decay λ, move) in one kernel,
   * equal to `update` + `applyUpdate` up to float rounding. Resolves false where it does not apply.
   */
  updateInPlace?(grad: Tensor, state: State, ctx: RuleContext, weightDecay: number): Promise<boolean>;
  /** Zeroes the statistics (ReLoRA's restart, GaLore's reset-at-refresh ablation); counters stay with the caller. */
  reset(state: State): void;
  /** Bytes of state held (what the ledger was charged). */
  stateBytes(state: State): number;
  save(state: State): Promise<SavedRuleState>;
  /** Restores `save` output into a state fresh from `init`. */
  load(state: State, saved: SavedRuleState): void;
  dispose(state: State): void;
}

/** The shared apply stage: decoupled decay λ and θ ← θ − s·u, in the rule's order. */
export function applyUpdate(weight: Tensor, update: RuleUpdate, weightDecay: number, decayBeforeUpdate: boolean): void {
  const backend = weight.backend;
  const decay = (): void => {
    if (weightDecay !== 0) backend.affine(weight.buffer, weight.buffer, 1 - update.decayLr * weightDecay, 0);
  };
  if (decayBeforeUpdate) decay();
  if (update.addTo) update.addTo(weight, -update.stepSize);
  else backend.axpby(-update.stepSize, update.direction.buffer, 1, weight.buffer);
  if (!decayBeforeUpdate) decay();
}
