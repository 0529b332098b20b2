/**
 * attachAdapters: inserts LoRA or AdaZeta TT adapters into a model, freezes everything else, and
 * leaves exactly the adapter parameters (group 'adapter') trainable — the parameter set MeZO-LoRA
 * and AdaZeta perturb. Sites are Linears matched by module-path suffix ('attn.proj' matches
 * 'blocks.0.attn.proj', 'blocks.1.attn.proj', …); for LoRA a target may also name one output slice
 * of a fused projection ('attn.c_attn.q', 'attn.c_attn.v': GPT-2's q and v inside its fused c_attn),
 * and the slices named for one Linear share one adapter. The target "attention+mlp" names every
 * Linear whose weight is in the attention or MLP group, in any architecture (the low-rank baselines'
 * default, with no module name written down). Adapters are initialised from `seed`
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

/** The target naming every attention and MLP projection, by the groups of their weights. */
export const ATTENTION_MLP_TARGET = 'attention+mlp';

function matchesSite(path: string, target: string): boolean {
  return path === target || path.endsWith(`.${target}`);
}

/** True when `target` names the Linear at `path` as a whole. */
export function targetsLinear(target: string, path: string, group: string): boolean {
  return target === ATTENTION_MLP_TARGET ? group === 'attention' || group === 'mlp' : matchesSite(path, target);
}

/** What a target adapts in one Linear: all of it, or the named slices of a fused projection. */
interface Site {
  readonly linear: Linear;
  /** null: the whole Linear */
  parts: string[] | null;
}

function describeLinears(linears: readonly [string, Linear][]): string {
  return linears.map(([path, linear]) => (linear.parts ? `${path} (parts ${linear.parts.names.join(', ')})` : path)).join(', ');
}

/** The Linears (and slices) `targets` name, keyed by module path. */
function resolveSites(linears: readonly [string, Linear][], spec: AdapterSpec): Map<string, Site> {
  const sites = new Map<string, Site>();
  for (const target of spec.targets) {
    const whole = linears.filter(([path, linear]) => targetsLinear(target, path, linear.weight.group));
    const dot = target.lastIndexOf('.');
    const [prefix, part] = dot > 0 ? [target.slice(0, dot), target.slice(dot + 1)] : ['', ''];
    const sliced = whole.length > 0 ? [] : linears.filter(([path, linear]) => linear.parts?.names.includes(part) && matchesSite(path, prefix));
    if (whole.length === 0 && sliced.length === 0) {
      throw new ConfigError(`adapters.targets: no Linear matches "${target}"; the model has ${describeLinears(linears)}`);
    }
    if (sliced.length > 0 && spec.kind !== 'lora') {
      throw new ConfigError(`adapters.targets: "${target}" names a slice of a fused projection, which only LoRA adapters can target (got kind "${spec.kind}")`);
    }
    for (const [path, linear] of whole) {
      if (sites.get(path)?.parts) throw new ConfigError(`adapters.targets: "${target}" adapts all of ${path}, which other targets adapt in slices`);
      if (sites.has(path)) throw new ConfigError(`adapters.targets: ${path} is named twice (by "${target}" and an earlier target)`);
      sites.set(path, { linear, parts: null });
    }
    for (const [path, linear] of sliced) {
      const site = sites.get(path) ?? { linear, parts: [] };
      if (!site.parts) throw new ConfigError(`adapters.targets: "${target}" adapts a slice of ${path}, which another target adapts whole`);
      if (!site.parts.includes(part)) site.parts.push(part);
      sites.set(path, site);
    }
  }
  return sites;
}

export function attachAdapters(model: AdaptableModel, spec: AdapterSpec, seed = 0): AttachedAdapters {
  const linears = [...model.linears().entries()];
  if (spec.targets.length === 0) throw new ConfigError(`adapters.targets must name at least one Linear, got []`);
  const resolved = resolveSites(linears, spec);
  // Model order, so parameter registration (and hence noise stream ids) does not depend on the target order.
  const sites = linears.filter(([path]) => resolved.has(path)).map(([path]) => [path, resolved.get(path)!] as const);

  const store = model.params;
  const adapters = sites.map(([, { linear, parts }]) =>
    spec.kind === 'tt' ? attachTTAdapter(store, linear, spec, seed) : attachLora(store, linear, spec, seed, parts),
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
