/**
 * A minimal reverse-mode tape over the kernel layer (the backprop path of DESIGN.md).
 *
 * Differentiable ops (src/nn/functional.ts) run their forward kernel and, only while a tape is
 * recording, append a node {inputs, output, backward} and `keep` the activations their backward
 * needs. Without a tape nothing is recorded, nothing is kept: forward allocates no gradient or
 * saved-activation memory.
 *
 * `backward(loss)` walks the nodes in reverse, accumulates ∂loss/∂tensor, and hands every trainable
 * parameter's gradient over as soon as all of its contributions have arrived (a tied embedding gets
 * one from the gather and one from the output head). With `onParamGrad` the gradient is freed right
 * after the callback (or the promise it returns) completes, so at most the parameters whose gradients
 * are still being accumulated are live (GaLore's per-layer updates, arXiv 2403.03507 §4.3; LOMO's and
 * AdaLomo's fused backward). Intermediate gradients are reference-counted and freed as soon as no
 * pending node needs them. `backward` is asynchronous because a hook may wait for a host read (an
 * 8-bit state, an SVD, Adafactor's statistics), which an asynchronous backend only gives by `read()`.
 *
 * Contract: gradients are exact up to float32 rounding of the same kernels the forward uses.
 * A tensor that reaches the loss through something that is not a recorded op (raw `Tensor.reshape`,
 * a host round trip) gets no gradient; use the ops in functional.ts (including `reshape`) under a tape.
 */
import { ZoloError } from '../errors.ts';
import type { MemoryCategory } from '../tensor/ledger.ts';
import { type Param, ParamStore } from '../tensor/params.ts';
import type { Engine, Tensor } from '../tensor/tensor.ts';

/** What a node's backward is told about its inputs. */
export interface GradContext {
  /** whether input i needs a gradient (a trainable parameter or downstream of one). */
  readonly needs: readonly boolean[];
  /** where to allocate input i's gradient: 'gradient' for trainable parameters, else 'activation'. */
  readonly category: readonly MemoryCategory[];
}

/** Returns ∂loss/∂input for each input (null where not needed), given dy = ∂loss/∂output. */
export type BackwardFn = (dy: Tensor, ctx: GradContext) => readonly (Tensor | null)[];

interface TapeNode {
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly backward: BackwardFn;
  readonly needs: readonly boolean[];
}

/** A per-parameter hook; backward waits for a returned promise before it goes on. */
export type ParamGradCallback = (param: Param, grad: Tensor) => void | Promise<void>;

export interface BackwardOptions {
  /**
   * Called once per trainable parameter that influences the loss, as soon as its gradient is
   * complete; the tape frees the gradient when the callback (and its promise) completes (per-layer updates).
   * Without it, backward returns every gradient in a map the caller owns.
   */
  onParamGrad?: ParamGradCallback;
}

let recording: Tape | null = null;

/** The tape currently recording, if any (ops call this; one null check on the no-tape path). */
export function activeTape(): Tape | null {
  return recording;
}

const SAVABLE: ReadonlySet<MemoryCategory> = new Set<MemoryCategory>(['activation', 'workspace']);

export class Tape {
  readonly engine: Engine;
  private readonly nodes: TapeNode[] = [];
  private readonly requiring = new Set<number>();
  private readonly paramByTensorId = new Map<number, Param>();
  private readonly saved = new Set<Tensor>();
  private finished = false;

  /** Records gradients for the trainable parameters of `params` (their flags are read now). */
  constructor(params: ParamStore | readonly Param[]) {
    const list = params instanceof ParamStore ? params.trainable() : params.filter((p) => p.trainable);
    if (!(params instanceof ParamStore) && params.length === 0) throw new ZoloError('Tape: no parameters given');
    this.engine = params instanceof ParamStore ? params.engine : params[0]!.tensor.engine;
    for (const param of list) {
      this.paramByTensorId.set(param.tensor.id, param);
      this.requiring.add(param.tensor.id);
    }
  }

  /**
   * Runs fn with this tape recording, inside an engine scope (intermediates that no backward needs
   * are freed at once). Returns fn's result, normally the scalar loss.
   */
  run<T>(fn: () => T): T {
    if (this.finished) throw new ZoloError('Tape.run: this tape has already run backward; make a new one per step');
    if (recording) throw new ZoloError('Tape.run: another tape is already recording');
    recording = this;
    try {
      return this.engine.scope(fn);
    } finally {
      recording = null;
    }
  }

  requiresGrad(tensor: Tensor): boolean {
    return this.requiring.has(tensor.id);
  }

  /**
   * @internal called by differentiable ops after their forward. Records nothing when no input needs
   * a gradient; otherwise keeps `saved` (activations only; parameters are never kept or freed).
   */
  record(inputs: readonly Tensor[], output: Tensor, saved: readonly Tensor[], backward: BackwardFn): void {
    const needs = inputs.map((t) => this.requiring.has(t.id));
    if (!needs.some(Boolean)) return;
    for (const tensor of saved) {
      const owner = tensor.base ?? tensor;
      if (!SAVABLE.has(owner.category) || this.saved.has(owner)) continue;
      this.engine.keep(owner);
      this.saved.add(owner);
    }
    this.requiring.add(output.id);
    this.nodes.push({ inputs, output, backward, needs });
  }

  /** Bytes of activations kept for backward right now. */
  savedBytes(): number {
    let bytes = 0;
    for (const tensor of this.saved) bytes += tensor.buffer.length * 4;
    return bytes;
  }

  /**
   * Back-propagates from `loss` (any shape; seeded with ones, so a non-scalar loss means its sum).
   * Frees the saved activations afterwards; the tape cannot be reused.
   */
  async backward(loss: Tensor, options: BackwardOptions = {}): Promise<Map<Param, Tensor>> {
    if (this.finished) throw new ZoloError('Tape.backward: called twice on the same tape');
    this.finished = true;
    const engine = this.engine;
    const live = this.reachableNodes(loss);
    const pending = new Map<number, number>();
    for (const node of live) {
      node.inputs.forEach((input, i) => {
        if (node.needs[i] && this.paramByTensorId.has(input.id)) pending.set(input.id, (pending.get(input.id) ?? 0) + 1);
      });
    }
    const result = new Map<Param, Tensor>();
    const grads = new Map<number, Tensor>();
    const refs = new Map<Tensor, number>();
    const hold = (id: number, grad: Tensor): void => {
      grads.set(id, grad);
      const owner = grad.base ?? grad;
      refs.set(owner, (refs.get(owner) ?? 0) + 1);
    };
    const drop = (grad: Tensor): void => {
      const owner = grad.base ?? grad;
      const count = (refs.get(owner) ?? 0) - 1;
      if (count > 0) {
        refs.set(owner, count);
        return;
      }
      refs.delete(owner);
      owner.dispose();
    };
    const referenced = (grad: Tensor): boolean => refs.has(grad.base ?? grad);
    // owners of parameter gradients still being accumulated (or handed to the caller)
    const held = new Set<Tensor>();

    try {
      await engine.scopeAsync(async () => {
        hold(loss.id, engine.full(loss.shape, 1, 'activation'));
        for (const node of live) {
          const dy = grads.get(node.output.id);
          if (!dy) continue;
          grads.delete(node.output.id);
          const category = node.inputs.map((t): MemoryCategory => (this.paramByTensorId.has(t.id) ? 'gradient' : 'activation'));
          const inputGrads = engine.scope(() => node.backward(dy, { needs: node.needs, category }));
          for (let i = 0; i < node.inputs.length; i++) {
            const input = node.inputs[i]!;
            const grad = inputGrads[i];
            if (!grad || !node.needs[i]) continue;
            const param = this.paramByTensorId.get(input.id);
            if (!param) {
              this.accumulateActivation(input.id, grad, grads, hold, drop);
              continue;
            }
            const complete = this.accumulateParam(param, grad, grads, pending, held, referenced);
            if (!complete) continue;
            if (!options.onParamGrad) {
              result.set(param, complete);
              continue;
            }
            // the hook may wait for a host read; its gradient is freed once it is done
            const hooked = options.onParamGrad(param, complete);
            if (hooked) await hooked;
            complete.dispose();
          }
          drop(dy);
          for (const grad of inputGrads) {
            const owner = grad ? (grad.base ?? grad) : null;
            if (owner && !owner.disposed && !referenced(owner) && !held.has(owner)) owner.dispose();
          }
        }
      });
    } finally {
      this.releaseSaved();
    }
    return result;
  }

  /** Frees the saved activations without running backward (e.g. after an error). */
  dispose(): void {
    this.finished = true;
    this.releaseSaved();
  }

  private releaseSaved(): void {
    for (const tensor of this.saved) tensor.dispose();
    this.saved.clear();
    this.nodes.length = 0;
  }

  /** Nodes whose output influences `loss`, in reverse recording order. */
  private reachableNodes(loss: Tensor): TapeNode[] {
    const reach = new Set<number>([loss.id]);
    const live: TapeNode[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i]!;
      if (!reach.has(node.output.id)) continue;
      live.push(node);
      node.inputs.forEach((input, j) => {
        if (node.needs[j]) reach.add(input.id);
      });
    }
    return live;
  }

  private accumulateParam(
    param: Param, grad: Tensor, grads: Map<number, Tensor>, pending: Map<number, number>, held: Set<Tensor>,
    referenced: (t: Tensor) => boolean,
  ): Tensor | null {
    const id = param.tensor.id;
    const shape = param.tensor.shape;
    const existing = grads.get(id);
    const exclusive = grad.ownsBuffer && !referenced(grad) && !held.has(grad);
    if (existing) {
      this.engine.backend.axpby(1, grad.buffer, 1, existing.buffer);
      if (exclusive) grad.dispose();
    } else if (exclusive && grad.category === 'gradient' && sameShape(grad.shape, shape)) {
      grads.set(id, grad);
      held.add(grad);
    } else {
      // pass-through views (e.g. add's dy) are shared: a parameter gets its own 'gradient' buffer
      const owned = this.engine.zeros(shape, 'gradient');
      this.engine.backend.copy(grad.buffer, owned.buffer);
      if (exclusive) grad.dispose();
      grads.set(id, owned);
      held.add(owned);
    }
    const left = (pending.get(id) ?? 1) - 1;
    pending.set(id, left);
    if (left > 0) return null;
    const complete = grads.get(id)!;
    grads.delete(id);
    return complete;
  }

  private accumulateActivation(
    id: number, grad: Tensor, grads: Map<number, Tensor>,
    hold: (id: number, grad: Tensor) => void, drop: (grad: Tensor) => void,
  ): void {
    const existing = grads.get(id);
    if (!existing) {
      hold(id, grad);
      return;
    }
    const sum = this.engine.zeros(existing.shape, 'activation');
    this.engine.backend.binary('add', existing.buffer, grad.buffer, sum.buffer, [1, 1, sum.size], [0, 0, 1]);
    grads.delete(id);
    drop(existing);
    hold(id, sum);
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((dim, i) => dim === b[i]);
}

/**
 * Inference-only early release: without a recording tape, frees the given intermediates now (the
 * caller promises nothing reads them again), lowering the forward's activation peak; under a tape
 * it does nothing (backward may need them; the enclosing scope frees the rest).
 */
export function releaseUnlessTaped(...tensors: Tensor[]): void {
  if (recording) return;
  for (const tensor of tensors) (tensor.base ?? tensor).dispose();
}

/** Frees every gradient of a map returned by `Tape.backward` or `valueAndGrad`. */
export function disposeGrads(grads: ReadonlyMap<Param, Tensor>): void {
  for (const grad of grads.values()) (grad.base ?? grad).dispose();
}

export interface ValueAndGrad {
  /** the loss as a host number. */
  loss: number;
  /** ∂loss/∂θ per trainable parameter that influences the loss (empty with onParamGrad); caller frees. */
  grads: Map<Param, Tensor>;
}

/**
 * Runs `lossFn` (returning a scalar loss tensor built from functional ops) under a fresh tape and
 * back-propagates. The usual backprop step: `const { loss, grads } = await valueAndGrad(store, () =>
 * model.lossTensor(batch)); optimizer.step(grads); disposeGrads(grads);`
 */
export async function valueAndGrad(
  params: ParamStore | readonly Param[], lossFn: () => Tensor, options: BackwardOptions = {},
): Promise<ValueAndGrad> {
  const tape = new Tape(params);
  let lossTensor: Tensor;
  try {
    lossTensor = tape.run(lossFn);
  } catch (error) {
    tape.dispose();
    throw error;
  }
  const grads = await tape.backward(lossTensor, options);
  const values = await lossTensor.read();
  (lossTensor.base ?? lossTensor).dispose();
  return { loss: values[0]!, grads };
}
