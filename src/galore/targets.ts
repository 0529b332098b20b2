/**
 * Which parameters GaLore projects (galore.md §2.8, §7). Like Hugging Face's `optim_target_modules`:
 * - a list of strings: a parameter is a target when its name contains any of them;
 * - a RegExp (or a string starting with "re:"): when the regex matches anywhere in the name;
 * - "all-linear": every 2-D weight except the embeddings and the output head (HF excludes lm_head);
 * - "attention+mlp" (default): the attention and MLP weights, as torchrun_main.py selects by
 *   "attn"/"mlp" in the module name; zolo knows them by their ParamStore group.
 * Only trainable 2-D parameters can be targets; a matched 1-D parameter (a bias) stays on plain
 * AdamW, as HF ignores matched non-Linear modules. A list entry or regex that matches no parameter
 * at all is a ConfigError listing the parameter names, so a typo cannot silently disable GaLore.
 */
import { ConfigError } from '../errors.ts';
import type { Param } from '../tensor/params.ts';

export type TargetModules = readonly string[] | RegExp | 'all-linear' | 'attention+mlp' | `re:${string}`;

function isMatrix(param: Param): boolean {
  return param.tensor.shape.length === 2;
}

/** The subset of `params` GaLore projects, in their order. */
export function selectTargets(params: readonly Param[], targets: TargetModules): Param[] {
  const trainable = params.filter((p) => p.trainable);
  const names = (): string => trainable.map((p) => p.name).join(', ');
  if (targets === 'attention+mlp') return trainable.filter((p) => isMatrix(p) && (p.group === 'attention' || p.group === 'mlp'));
  if (targets === 'all-linear') return trainable.filter((p) => isMatrix(p) && p.group !== 'embedding' && p.group !== 'head');
  if (targets instanceof RegExp || typeof targets === 'string') {
    const regex = targets instanceof RegExp ? targets : new RegExp(targets.slice(3));
    const matched = trainable.filter((p) => regex.test(p.name));
    if (matched.length === 0) throw new ConfigError(`galore.targetModules ${String(regex)} matches no trainable parameter; parameters: ${names()}`);
    return matched.filter(isMatrix);
  }
  if (targets.length === 0) throw new ConfigError('galore.targetModules must not be an empty list (use "attention+mlp", "all-linear", a regex or name substrings)');
  for (const target of targets) {
    if (!trainable.some((p) => p.name.includes(target))) {
      throw new ConfigError(`galore.targetModules entry ${JSON.stringify(target)} matches no trainable parameter; parameters: ${names()}`);
    }
  }
  return trainable.filter((p) => isMatrix(p) && targets.some((t) => p.name.includes(t)));
}

/** Parses a CLI value: "attention+mlp", "all-linear", "re:<regex>" or comma-separated substrings. */
export function parseTargetModules(value: string): TargetModules {
  if (value === 'attention+mlp' || value === 'all-linear' || value.startsWith('re:')) return value as TargetModules;
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}
