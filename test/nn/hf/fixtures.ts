/** The committed Hugging Face fixtures (test/fixtures/hf, made by make.py) and their references. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'hf');

export interface Reference {
  /** two token sequences and transformers' float32 logits [T, vocab] for each. */
  sequences: number[][];
  logits: number[][][];
  /** strings.json and the Python tokenizers' ids for each. */
  strings: string[];
  tokenIds: number[][];
}

export function reference(name: string): Reference {
  return JSON.parse(readFileSync(join(FIXTURES, name, 'reference.json'), 'utf8')) as Reference;
}
