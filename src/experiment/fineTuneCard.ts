/**
 * The fine-tuning record of a run's checkpoint card. `zolo run` saves model.safetensors with the
 * parent's card (tokenizer, head, prompt, the pretraining record); this adds what the run did —
 * method, lr, steps, forward passes, the validation result, the selected step and test accuracy
 * when the summary has a `selected` record, the parent checkpoint — and, for adapter methods, the
 * adapter spec `zolo predict` needs to re-attach the adapters the file's tensors belong to.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CARD_FILE } from '../data/checkpointCard.ts';
import { LORA_BASELINE_TARGETS } from '../galore/lora.ts';
import { LORA_DEFAULTS, type AdapterSpec } from '../nn/adapters/index.ts';
import { writeFileAtomic } from './checkpoint.ts';
import type { RunConfig } from './config.ts';
import { presetAdapters } from './methods/zo.ts';
import { isPlainObject } from './overrides.ts';

/** The adapters method `method` attached with `options` (as the method adapters build them), or null. */
export function adapterSpecOf(method: string, options: Record<string, unknown>): AdapterSpec | null {
  const preset = presetAdapters(method);
  if (preset) return { ...preset, ...(isPlainObject(options.adapters) ? options.adapters : {}) } as AdapterSpec;
  if (method === 'lora' || method === 'relora') {
    return { kind: 'lora', ...LORA_DEFAULTS, targets: [...LORA_BASELINE_TARGETS], ...(isPlainObject(options.lora) ? options.lora : {}) } as AdapterSpec;
  }
  return null;
}

/** What the card needs of a run summary; `selected` is read when present. */
interface SummaryForCard {
  steps: number;
  forwardPasses: number;
  status: string;
  eval: { accuracy: number; loss: number } | null;
  selected?: unknown;
}

/** Adds `fineTuning` to DIR/card.json when the run saved a model with a card; a no-op otherwise. */
export function recordFineTuning(dir: string, config: RunConfig, lr: number, summary: SummaryForCard): void {
  const path = join(dir, CARD_FILE);
  if (!existsSync(path)) return;
  const card = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> & { training?: Record<string, unknown> };
  const selected = isPlainObject(summary.selected) ? summary.selected : null;
  card.fineTuning = {
    method: config.method,
    options: config.options,
    lr,
    lrSchedule: config.lrSchedule,
    weightDecay: config.weightDecay,
    seed: config.seed,
    batchSize: config.batchSize,
    taskOptions: config.taskOptions,
    steps: summary.steps,
    forwardPasses: summary.forwardPasses,
    status: summary.status,
    validation: summary.eval,
    selectedStep: typeof selected?.step === 'number' ? selected.step : null,
    testAccuracy: findTestAccuracy(selected),
    selected,
    parent: card.training?.fineTunedFrom ?? config.model,
    adapters: adapterSpecOf(config.method, config.options),
  };
  writeFileAtomic(path, `${JSON.stringify(card, null, 2)}\n`);
}

/** The selected step's test accuracy, as `testAccuracy` or `test.accuracy`; null when not recorded. */
function findTestAccuracy(selected: Record<string, unknown> | null): number | null {
  if (!selected) return null;
  if (typeof selected.testAccuracy === 'number') return selected.testAccuracy;
  const test = selected.test;
  return isPlainObject(test) && typeof test.accuracy === 'number' ? test.accuracy : null;
}
