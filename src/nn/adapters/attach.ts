/**
 * attachAdapters: inserts LoRA or AdaZeta TT adapters into a model, freezes everything else, and
 * leaves exactly the adapter parameters (group 'adapter') trainable — the parameter set MeZO-LoRA
 * and AdaZeta perturb. Sites are Linears matched by module-path suffix ('attn.proj' matches
 * 'blocks.0.attn.proj', 'blocks.1.attn.proj', …). Adapters are initialised from `seed`
 * (deterministic in model, spec and seed). Attaching twice to the same site is a ConfigError
 * (the parameter names collide).
 */
import { ConfigError } from '../../errors.ts';
import type { Param, ParamStore } from '../../tensor/params.ts';
import type { Linear } from '../linear.ts';
import { attachLora, type LoraAdapter, type LoraOptions } from './lora.ts';
import { attachTTAdapter, type TTAdapter, type TTAdapterOptions } from './ttAdapter.ts';

export type TTAdapterSpec = { kind: 'tt' } & TTAdapterOptions;
export type LoraAdapterSpec = { kind: 'lora' } & LoraOptions;
export type AdapterSpec = TTAdapterSpec | LoraAdapterSpec;

/** What attachAdapters needs of a model (every zolo Model has both). */
export interface AdaptableModel {
  readonly params: ParamStore;
  linears(): ReadonlyMap<string, Linear>;
}

export interface AttachedAdapters {
  readonly kind: AdapterSpec['kind'];
  /** module paths of the adapted Linears, in model order */
  readonly sites: readonly string[];
  readonly adapters: readonly (TTAdapter | LoraAdapter)[];
  /** every adapter parameter, in registration order */
  readonly params: readonly Param[];
  /** number of trainable scalars (= Σ adapter parameter sizes) */
  readonly trainableCount: number;
}

function matchesSite(path: string, target: string): boolean {
  return path === target || path.endsWith(`.${target}`);
}

export function attachAdapters(model: AdaptableModel, spec: AdapterSpec, seed = 0): AttachedAdapters {
  const linears = [...model.linears().entries()];
  if (spec.targets.length === 0) throw new ConfigError(`adapters.targets must name at least one Linear, got []`);
  const sites: [string, Linear][] = [];
  for (const target of spec.targets) {
    const found = linears.filter(([path]) => matchesSite(path, target));
    if (found.length === 0) {
      throw new ConfigError(`adapters.targets: no Linear matches "${target}"; the model has ${linears.map(([path]) => path).join(', ')}`);
    }
    sites.push(...found);
  }
  // Model order, so parameter registration (and hence noise stream ids) does not depend on the target order.
  const order = new Map(linears.map(([path], i) => [path, i]));
  sites.sort(([p], [q]) => order.get(p)! - order.get(q)!);

  const store = model.params;
  const adapters = sites.map(([, linear]) =>
    spec.kind === 'tt' ? attachTTAdapter(store, linear, spec, seed) : attachLora(store, linear, spec, seed),
  );
  store.setTrainable((param) => param.group === 'adapter');
  const params = adapters.flatMap((adapter) => adapter.params);
  return {
    kind: spec.kind,
    sites: sites.map(([path]) => path),
    adapters,
    params,
    trainableCount: params.reduce((n, p) => n + p.tensor.size, 0),
  };
}
