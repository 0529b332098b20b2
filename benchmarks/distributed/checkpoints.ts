/**
 * Checkpoint folders for the traffic measurement: `tiny` is the shipped pretrained checkpoint;
 * `small` and a 125M-class model (GPT-2 small's shape: d 768, 12 layers, 12 heads, vocabulary
 * 50,257) are initialised at random — traffic does not depend on the weights — and written as
 * zolo checkpoints with tiny's tokenizer and prompt (its token ids all fit the larger vocabulary).
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_CHECKPOINTS_DIR } from '../../src/experiment/spamWorkload.ts';
import { CARD_FILE, TOKENIZER_FILE, WEIGHTS_FILE, writeCard, type CheckpointCard } from '../../src/data/checkpointCard.ts';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { createModel, saveCheckpoint } from '../../src/nn/index.ts';
import type { TransformerConfig } from '../../src/nn/config.ts';
import { Engine } from '../../src/tensor/index.ts';

export const MODEL_SHAPES: Record<string, Partial<TransformerConfig> | null> = {
  tiny: null,
  small: {},
  '125m-class': { vocab: 50_257, dModel: 768, layers: 12, heads: 12, dFf: 3072, seq: 128 },
};

/** The checkpoint folder of `name`: the shipped one for tiny, else a random-init one written under `dir`. */
export async function checkpointFor(name: string, dir: string): Promise<string> {
  const shape = MODEL_SHAPES[name];
  if (shape === undefined) throw new Error(`no model ${name}`);
  const tiny = join(BUILTIN_CHECKPOINTS_DIR, 'tiny');
  if (shape === null) return tiny;
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  const backend = new CpuBackend();
  const model = createModel(new Engine(backend), { kind: 'causal-lm', preset: 'small', overrides: shape, seed: 0 });
  await saveCheckpoint(join(out, WEIGHTS_FILE), model, { 'zolo.tokenizer': TOKENIZER_FILE, 'zolo.preset': name });
  copyFileSync(join(tiny, TOKENIZER_FILE), join(out, TOKENIZER_FILE));
  const card = JSON.parse(readFileSync(join(tiny, CARD_FILE), 'utf8')) as CheckpointCard;
  writeCard(out, { ...card, preset: name, config: { ...model.config }, parameters: model.params.count(), training: { note: 'random initialisation, for traffic measurements' }, evaluation: {} });
  model.params.dispose();
  return out;
}
