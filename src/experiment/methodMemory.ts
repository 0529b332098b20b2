/**
 * `zolo memory` for every method `zolo methods` lists. Backprop methods and MeZO use the GaLore
 * memory model (src/galore/memory.ts). The other ZO presets are composed of parts whose memory is
 * known in closed form: Gaussian/sphere noise is regenerated in place (no buffer; Rademacher keeps a
 * transient per-tensor buffer, counted as workspace by the ledger, not here), the difference scheme
 * holds scalars, and the optimizer holds 0 (sgd, signSgd, conservative), P (momentum) or 2P (adam)
 * floats of state over the P trainable values; ZO methods never hold gradients. Where the size
 * depends on more than the architecture (LOZO's low-rank factors, AdaZeta's tensor-train adapters),
 * the estimate says so instead of guessing, and points at `zolo run`, whose ledger measures it.
 */
import { LORA_DEFAULTS } from '../nn/adapters/lora.ts';
import '../galore/builtins.ts';
import { estimateMemory, memoryMethodNames, type Architecture, type MemoryEstimate, type MemoryOptions } from '../galore/memory.ts';
import { ConfigError } from '../errors.ts';
import { createEstimator, listPresets } from '../zo/index.ts';
import { presetAdapters } from './methods/zo.ts';

export type MethodMemory = (Omit<MemoryEstimate, 'method'> & { method: string }) | { method: string; unavailable: string };

/** Floats of optimizer state per trainable value, by ZO optimizer part. */
const STATE_PER_VALUE: Readonly<Record<string, number>> = { sgd: 0, signSgd: 0, conservative: 0, momentum: 1, adam: 2 };

const MEASURE = 'run it with `zolo run` and read summary.json memory.peakBytes';

/** Every method `zolo memory` accepts: every backprop optimizer (the GaLore memory model) and every ZO preset, registered now. */
export function memoryMethods(): string[] {
  return [...new Set([...memoryMethodNames(), ...listPresets().map((preset) => preset.name)])];
}

export function estimateMethodMemory(architecture: Architecture, method: string, options: MemoryOptions = {}): MethodMemory {
  if (memoryMethodNames().includes(method)) return estimateMemory(architecture, method, options);
  if (!listPresets().some((preset) => preset.name === method)) {
    throw new ConfigError(`method must be one of ${memoryMethods().join(', ')}, got "${method}"`);
  }
  const { perturbation, optimizer } = createEstimator(method).parts;
  if (perturbation.name === 'lowRank') {
    return { method, unavailable: `its low-rank factors (rank, lazy interval) are sized per run, not by the architecture; ${MEASURE}` };
  }
  const adapters = presetAdapters(method);
  if (adapters?.kind === 'tt') {
    return { method, unavailable: `its tensor-train adapters' size depends on how the hidden size factorises into TT modes; ${MEASURE}` };
  }
  const perValue = STATE_PER_VALUE[optimizer.name];
  if (perValue === undefined) return { method, unavailable: `no memory formula for its optimizer part "${optimizer.name}"; ${MEASURE}` };
  const e = options.elementBytes ?? 4;
  // weights (and LoRA adapters when the preset trains them) from the shared model, minus what backprop adds
  const base = adapters?.kind === 'lora'
    ? estimateMemory(architecture, 'lora', { ...options, loraRank: options.loraRank ?? adapters.rank ?? LORA_DEFAULTS.rank, loraTargets: adapters.targets })
    : estimateMemory(architecture, 'mezo', options);
  const optimizerState = perValue * e * base.trainable;
  const { weights, adapter } = base.bytes;
  return {
    ...base,
    method,
    bytes: { weights, adapter, gradient: 0, optimizerState, total: weights + adapter + optimizerState },
    stateElements: { moments: perValue * base.trainable, projector: 0, factored: 0 },
  };
}
