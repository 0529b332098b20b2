/**
 * Strict nested option objects of the ZO methods. `options.adapters` is spread over a preset's
 * adapter spec, so a misspelt key would be silently ignored and the run would use the default:
 * its keys are checked here, before any work starts (the backprop methods' objects are checked by
 * src/galore/registry.ts `checkOptimizerOptions`). An unknown key is a ConfigError naming the path
 * and the allowed keys, in the same words as the run-config schema's own unknown-key errors.
 */
import type { AdapterSpec } from '../nn/adapters/index.ts';
import { LORA_DEFAULTS } from '../nn/adapters/lora.ts';
import { TT_ADAPTER_DEFAULTS } from '../nn/adapters/ttAdapter.ts';

/** Fields of an adapter spec a run may override (the kind is the preset's, not an option). */
export function adapterKeys(spec: AdapterSpec): string[] {
  return spec.kind === 'tt' ? [...Object.keys(TT_ADAPTER_DEFAULTS), 'hiddenModes', 'bottleneckModes'] : Object.keys(LORA_DEFAULTS);
}
