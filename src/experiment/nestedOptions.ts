/**
 * Strict nested option objects. Method options hold objects (`options.lora`, `options.galore`,
 * `options.adapters`, …) whose consumers spread them over defaults, so a misspelt key would be
 * silently ignored and the run would use the default. Every such object is checked here against the
 * keys its consumer reads, before any work starts: an unknown key is a ConfigError naming the path
 * and the allowed keys, in the same words as the run-config schema's own unknown-key errors.
 */
import { ADAFACTOR_DEFAULTS, ADAPTIVE_GAP_DEFAULTS, RELORA_DEFAULTS } from '../galore/defaults.ts';
import { DEFAULT_EIGHT_BIT } from '../galore/moments.ts';
import { DEFAULT_PROJECTOR_OPTIONS } from '../galore/projector.ts';
import { ConfigError } from '../kernels/errors.ts';
import type { AdapterSpec } from '../nn/adapters/index.ts';
import { LORA_DEFAULTS } from '../nn/adapters/lora.ts';
import { TT_ADAPTER_DEFAULTS } from '../nn/adapters/ttAdapter.ts';
import { isPlainObject } from './overrides.ts';

/** Throws unless every key of `value` (an object at `path`) is in `allowed`. */
export function checkKnownKeys(path: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new ConfigError(`unknown key ${unknown.map((key) => `"${path}.${key}"`).join(', ')}; allowed in ${path}: ${allowed.join(', ')}`);
  }
}

/** GaLore settings: the projector's options plus the optimizer's scale, targets and refresh policy. */
const GALORE_KEYS = [...Object.keys(DEFAULT_PROJECTOR_OPTIONS), 'scale', 'targetModules', 'momentsAtRefresh'];

/** Keys of each object option of the backprop methods (src/galore/factory.ts reads them). */
export const BACKPROP_OBJECT_KEYS: Readonly<Record<string, readonly string[]>> = {
  galore: GALORE_KEYS,
  eightBit: Object.keys(DEFAULT_EIGHT_BIT),
  adafactor: Object.keys(ADAFACTOR_DEFAULTS),
  lora: Object.keys(LORA_DEFAULTS),
  relora: Object.keys(RELORA_DEFAULTS),
};

/** Checks `options.<name>` of a backprop method and, for galore, its `adaptive` object. */
export function checkBackpropObject(name: string, value: Record<string, unknown>): void {
  checkKnownKeys(`options.${name}`, value, BACKPROP_OBJECT_KEYS[name]!);
  if (name === 'galore' && isPlainObject(value.adaptive)) checkKnownKeys('options.galore.adaptive', value.adaptive, Object.keys(ADAPTIVE_GAP_DEFAULTS));
}

/** Fields of an adapter spec a run may override (the kind is the preset's, not an option). */
export function adapterKeys(spec: AdapterSpec): string[] {
  return spec.kind === 'tt' ? [...Object.keys(TT_ADAPTER_DEFAULTS), 'hiddenModes', 'bottleneckModes'] : Object.keys(LORA_DEFAULTS);
}
