/**
 * The checkpoint card: `card.json` beside `model.safetensors` and the tokenizer JSON in a
 * checkpoint directory. It says how to turn text into model input (tokenizer file, head, prompt
 * template) and records how the weights were made (command, seed, steps, wall time, backend) and
 * how good they are (validation loss/perplexity, baselines). `zolo pretrain` writes one;
 * fine-tuning runs write one with their head; `zolo predict` reads it.
 *
 * Bad input: a missing or malformed card throws FormatError naming the file and the field.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError } from '../errors.ts';
import type { PromptTemplate } from './emailTask.ts';

export const CARD_FILE = 'card.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const TOKENIZER_FILE = 'tokenizer.json';
export const CARD_FORMAT = 'zolo-checkpoint-card/1';

/** How `zolo predict` classifies with this checkpoint. */
export const CARD_HEADS = ['prompt', 'classifier'] as const;
export type CardHead = (typeof CARD_HEADS)[number];

export interface CheckpointCard {
  format: typeof CARD_FORMAT;
  /** 'causal-lm' | 'encoder-classifier' (the safetensors metadata says the same) */
  modelKind: string;
  preset: string;
  /** the model config the weights were saved with (a decoder family's names its `family`) */
  config: Record<string, number | string | boolean | null>;
  parameters: number;
  /** file names relative to the card's directory */
  weights: string;
  tokenizer: string;
  /** 'prompt': LM + label words (needs `prompt`); 'classifier': encoder classifier head */
  head: CardHead;
  prompt?: PromptTemplate;
  classNames: string[];
  training: Record<string, unknown>;
  evaluation: Record<string, unknown>;
  memory?: Record<string, unknown>;
}

export function writeCard(dir: string, card: CheckpointCard): void {
  writeFileSync(join(dir, CARD_FILE), `${JSON.stringify(card, null, 2)}\n`);
}

/** Reads and checks `dir/card.json` (the fields `zolo predict` relies on). */
export function readCard(dir: string): CheckpointCard {
  const path = join(dir, CARD_FILE);
  if (!existsSync(path)) throw new FormatError(`checkpoint directory ${dir} has no ${CARD_FILE} (expected the card written by zolo pretrain or zolo run)`);
  let card: Partial<CheckpointCard>;
  try {
    card = JSON.parse(readFileSync(path, 'utf8')) as Partial<CheckpointCard>;
  } catch (error) {
    throw new FormatError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const fail = (what: string): never => {
    throw new FormatError(`${path}: ${what}`);
  };
  if (card.format !== CARD_FORMAT) fail(`"format" must be "${CARD_FORMAT}", got ${JSON.stringify(card.format)}`);
  if (!(CARD_HEADS as readonly string[]).includes(card.head as string)) fail(`"head" must be one of ${CARD_HEADS.join(', ')}, got ${JSON.stringify(card.head)}`);
  for (const field of ['weights', 'tokenizer'] as const) {
    if (typeof card[field] !== 'string') fail(`"${field}" must be a file name, got ${JSON.stringify(card[field])}`);
  }
  if (card.head === 'prompt') {
    const prompt = card.prompt;
    if (!prompt || typeof prompt.suffix !== 'string' || !Array.isArray(prompt.labelWords) || prompt.labelWords.length !== 2) {
      fail('"prompt" must hold {suffix: string, labelWords: [string, string]} for head "prompt"');
    }
  }
  if (!Array.isArray(card.classNames) || card.classNames.length < 2) fail('"classNames" must list the class names');
  return card as CheckpointCard;
}
