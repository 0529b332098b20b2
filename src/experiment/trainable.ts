/**
 * `trainable`: which parameters a run trains, chosen in the config instead of by the method.
 *
 * Each entry is either
 *   - a parameter group — embedding, attention, mlp, norm, head, adapter (ParamStore's groups), or
 *   - a parameter name, where `*` stands for any run of characters, dots included:
 *     "blocks.1.*" is every parameter of the second block, "*.bias" every bias, "ln_f.weight" one tensor.
 * A parameter is trained when any entry selects it; everything else is frozen before the method is
 * created, so ZO estimators perturb and update, and backprop optimizers differentiate and keep state
 * for, exactly the selected parameters. An entry that selects nothing is a ConfigError listing what
 * exists (a typo must not silently train nothing).
 */
import { ConfigError, describeValue } from '../errors.ts';
import { PARAM_GROUPS, type Param, type ParamStore } from '../tensor/params.ts';

function entryMatcher(entry: string): (param: Param) => boolean {
  if ((PARAM_GROUPS as readonly string[]).includes(entry)) return (param) => param.group === entry;
  const pattern = new RegExp(`^${entry.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (param) => pattern.test(param.name);
}

/** Freezes every parameter no entry selects; throws ConfigError (field `trainable`) for an entry that selects nothing. */
export function applyTrainable(params: ParamStore, entries: readonly string[]): void {
  const matchers = entries.map(entryMatcher);
  const all = params.all();
  entries.forEach((entry, index) => {
    if (!all.some(matchers[index]!)) {
      const groups = [...new Set(all.map((param) => param.group))];
      throw new ConfigError(
        `trainable entry ${describeValue(entry)} matches no parameter; use a group (${groups.join(', ')}) or a name pattern with * over: ${all.map((param) => param.name).join(', ')}`,
      );
    }
  });
  params.setTrainable((param) => matchers.some((matches) => matches(param)));
}
