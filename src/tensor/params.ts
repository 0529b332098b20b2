/**
 * ParamStore: the one place weights live. Named parameters with a group and a trainable flag,
 * iterated in insertion order — the fixed order every ZO pass relies on. Each parameter has a
 * stable integer `index` (its position) from which the noise stream ids are derived.
 */
import { ConfigError } from '../errors.ts';
import type { MemoryCategory } from './ledger.ts';
import { type Engine, type Shape, Tensor } from './tensor.ts';

export const PARAM_GROUPS = ['embedding', 'attention', 'mlp', 'norm', 'head', 'adapter'] as const;
export type ParamGroup = (typeof PARAM_GROUPS)[number];

export interface Param {
  readonly name: string;
  readonly group: ParamGroup;
  readonly index: number;
  tensor: Tensor;
  trainable: boolean;
}

export class ParamStore {
  private readonly byName = new Map<string, Param>();
  private readonly ordered: Param[] = [];

  constructor(readonly engine: Engine) {}

  /** Registers a parameter with initial values (copied to the backend). */
  add(name: string, group: ParamGroup, shape: Shape, values: ArrayLike<number>, trainable = true): Param {
    if (this.byName.has(name)) throw new ConfigError(`parameter "${name}" is already registered`);
    const category: MemoryCategory = group === 'adapter' ? 'adapter' : 'weights';
    const param: Param = {
      name,
      group,
      index: this.ordered.length,
      tensor: this.engine.fromArray(values, shape, category),
      trainable,
    };
    this.byName.set(name, param);
    this.ordered.push(param);
    return param;
  }

  get(name: string): Param {
    const param = this.byName.get(name);
    if (!param) {
      const known = this.ordered.slice(0, 12).map((p) => p.name).join(', ');
      throw new ConfigError(`unknown parameter "${name}"; known: ${known}${this.ordered.length > 12 ? ', …' : ''}`);
    }
    return param;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  tensor(name: string): Tensor {
    return this.get(name).tensor;
  }

  /** Every parameter, in registration order. */
  all(): readonly Param[] {
    return this.ordered;
  }

  trainable(): Param[] {
    return this.ordered.filter((p) => p.trainable);
  }

  /** Marks exactly the parameters for which `predicate` holds as trainable. */
  setTrainable(predicate: (param: Param) => boolean): void {
    for (const param of this.ordered) param.trainable = predicate(param);
  }

  /** Number of scalar values, over all or only trainable parameters. */
  count(onlyTrainable = false): number {
    return this.ordered.filter((p) => !onlyTrainable || p.trainable).reduce((n, p) => n + p.tensor.size, 0);
  }

  /** Host copies of every parameter, by name (for checkpoints and tests). */
  async snapshot(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const param of this.ordered) out.set(param.name, await param.tensor.read());
    return out;
  }

  /** Overwrites values from a snapshot; names and sizes must match. */
  load(values: ReadonlyMap<string, Float32Array>): void {
    for (const param of this.ordered) {
      const source = values.get(param.name);
      if (!source) throw new ConfigError(`checkpoint has no tensor "${param.name}"`);
      if (source.length !== param.tensor.size) {
        throw new ConfigError(`tensor "${param.name}" has ${source.length} values in the checkpoint, the model needs ${param.tensor.size}`);
      }
      this.engine.backend.write(param.tensor.buffer, source);
    }
  }

  dispose(): void {
    for (const param of this.ordered) param.tensor.dispose();
    this.byName.clear();
    this.ordered.length = 0;
  }
}
