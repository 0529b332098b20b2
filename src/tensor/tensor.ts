/**
 * Tensors and the engine that creates them. An engine pairs one backend with one MemoryLedger;
 * every tensor it makes is charged to the ledger under a category until disposed.
 *
 * Scopes free intermediates: `engine.scope(fn)` disposes every activation or workspace tensor created
 * inside fn, except what fn returns and what was `keep`-ed (the tape keeps saved activations).
 * Weights, adapters, optimizer state and gradients are never freed by a scope.
 */
import type { Backend, DeviceBuffer } from '../kernels/backend.ts';
import { ShapeError } from '../errors.ts';
import { type MemoryCategory, MemoryLedger } from './ledger.ts';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let size = 1;
  for (const dim of shape) size *= dim;
  return size;
}

export function formatShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

function checkShape(shape: Shape, what: string): void {
  for (const dim of shape) {
    if (!Number.isInteger(dim) || dim < 0) throw new ShapeError(`${what}: shape ${formatShape(shape)} must hold non-negative integers`);
  }
}

let nextTensorId = 1;

export class Tensor {
  /** process-unique id, handy in error messages and debugging. */
  readonly id = nextTensorId++;
  private disposedFlag = false;

  constructor(
    readonly engine: Engine,
    readonly shape: Shape,
    readonly buffer: DeviceBuffer,
    readonly category: MemoryCategory,
    /** for reshaped views, the tensor that owns the buffer; views are not charged to the ledger. */
    readonly base: Tensor | null = null,
  ) {}

  get ownsBuffer(): boolean {
    return this.base === null;
  }

  get size(): number {
    return sizeOf(this.shape);
  }
  get rank(): number {
    return this.shape.length;
  }
  get disposed(): boolean {
    return this.disposedFlag;
  }
  get backend(): Backend {
    return this.engine.backend;
  }

  /** Waits for pending work and copies the values to the host. */
  read(): Promise<Float32Array> {
    this.assertLive('read');
    return this.engine.backend.read(this.buffer);
  }

  readSync(): Float32Array {
    this.assertLive('readSync');
    return this.engine.backend.readSync(this.buffer);
  }

  /** A view with a new shape over the same buffer (same number of elements). */
  reshape(shape: Shape): Tensor {
    this.assertLive('reshape');
    if (sizeOf(shape) !== this.size) {
      throw new ShapeError(`reshape: cannot view ${formatShape(this.shape)} (${this.size} elements) as ${formatShape(shape)}`);
    }
    return new Tensor(this.engine, [...shape], this.buffer, this.category, this.base ?? this);
  }

  dispose(): void {
    if (this.disposedFlag || !this.ownsBuffer) {
      this.disposedFlag = true;
      return;
    }
    this.disposedFlag = true;
    this.engine.release(this);
  }

  assertLive(op: string): void {
    if (this.disposedFlag) throw new Error(`${op}: tensor #${this.id} ${formatShape(this.shape)} was already disposed`);
  }
}

const SCOPED: ReadonlySet<MemoryCategory> = new Set<MemoryCategory>(['activation', 'workspace']);

export class Engine {
  private scopes: Tensor[][] = [];
  private keptIds = new Set<number>();

  constructor(
    readonly backend: Backend,
    readonly ledger: MemoryLedger = new MemoryLedger(),
  ) {}

  /** A zero-filled tensor. */
  zeros(shape: Shape, category: MemoryCategory): Tensor {
    checkShape(shape, 'zeros');
    const buffer = this.backend.alloc(sizeOf(shape));
    return this.track(new Tensor(this, [...shape], buffer, category));
  }

  fromArray(values: ArrayLike<number>, shape: Shape, category: MemoryCategory): Tensor {
    checkShape(shape, 'fromArray');
    if (values.length !== sizeOf(shape)) {
      throw new ShapeError(`fromArray: ${values.length} values do not fill shape ${formatShape(shape)} (${sizeOf(shape)} elements)`);
    }
    const buffer = this.backend.upload(values instanceof Float32Array ? values : Float32Array.from(values));
    return this.track(new Tensor(this, [...shape], buffer, category));
  }

  full(shape: Shape, value: number, category: MemoryCategory): Tensor {
    const tensor = this.zeros(shape, category);
    if (value !== 0) this.backend.fill(tensor.buffer, value);
    return tensor;
  }

  /** Runs fn and disposes the activation/workspace tensors it created, except its result and kept ones. */
  scope<T>(fn: () => T): T {
    this.scopes.push([]);
    let result: T;
    try {
      result = fn();
    } catch (error) {
      this.closeScope(new Set());
      throw error;
    }
    this.closeScope(collectTensorIds(result));
    return result;
  }

  /**
   * `scope` for an asynchronous fn (the tape's backward awaits host reads of optimizer hooks). The
   * scope stays open across fn's awaits, so nothing else may issue ops on this engine meanwhile —
   * a training step owns its engine until it resolves.
   */
  async scopeAsync<T>(fn: () => Promise<T>): Promise<T> {
    this.scopes.push([]);
    let result: T;
    try {
      result = await fn();
    } catch (error) {
      this.closeScope(new Set());
      throw error;
    }
    this.closeScope(collectTensorIds(result));
    return result;
  }

  /** Excludes a tensor from scope disposal; the caller now owns it. */
  keep<T extends Tensor>(tensor: T): T {
    this.keptIds.add(tensor.id);
    return tensor;
  }

  /** @internal called by Tensor.dispose. */
  release(tensor: Tensor): void {
    this.keptIds.delete(tensor.id);
    this.ledger.release(tensor.category, tensor.buffer.length * 4);
    this.backend.free(tensor.buffer);
  }

  private track(tensor: Tensor): Tensor {
    this.ledger.allocate(tensor.category, tensor.buffer.length * 4);
    const top = this.scopes[this.scopes.length - 1];
    if (top && SCOPED.has(tensor.category)) top.push(tensor);
    return tensor;
  }

  private closeScope(survivors: Set<number>): void {
    const created = this.scopes.pop() ?? [];
    const parent = this.scopes[this.scopes.length - 1];
    for (const tensor of created) {
      if (tensor.disposed) continue;
      if (this.keptIds.has(tensor.id)) continue;
      if (survivors.has(tensor.id)) {
        parent?.push(tensor);
        continue;
      }
      tensor.dispose();
    }
  }
}

function collectTensorIds(value: unknown, ids = new Set<number>(), depth = 0): Set<number> {
  if (value instanceof Tensor) {
    ids.add(value.id);
    if (value.base) ids.add(value.base.id); // a returned view keeps its buffer's owner alive
  } else if (depth < 4 && value !== null && typeof value === 'object') {
    for (const item of Array.isArray(value) ? value : Object.values(value)) collectTensorIds(item, ids, depth + 1);
  }
  return ids;
}
