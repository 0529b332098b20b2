/**
 * tokenizer.json through @huggingface/tokenizers gives exactly the ids of the Python `tokenizers`
 * library (recorded by make.py) on strings with non-ASCII text, emoji, whitespace runs, tabs, CRLF
 * and empty input; the LLaMA-style tokenizer adds its BOS through the post-processor, as in Python.
 */
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { HfTokenizer } from '../../../src/nn/hf/tokenizer.ts';
import { FIXTURES, reference } from './fixtures.ts';

describe('HfTokenizer', () => {
  for (const name of ['gpt2', 'llama', 'qwen2', 'opt']) {
    test(`${name}: ids equal Python tokenizers' on every committed string`, async () => {
      const tokenizer = await HfTokenizer.load(join(FIXTURES, name));
      const ref = reference(name);
      ref.strings.forEach((text, i) => {
        expect(tokenizer.encode(text), JSON.stringify(text)).toEqual(ref.tokenIds[i]);
      });
    });
  }

  test('byte-level decoding restores the text; addSpecialTokens: false drops the BOS', async () => {
    const gpt2 = await HfTokenizer.load(join(FIXTURES, 'gpt2'));
    const llama = await HfTokenizer.load(join(FIXTURES, 'llama'));
    for (const text of reference('gpt2').strings) expect(gpt2.decode(gpt2.encode(text))).toBe(text);
    expect(llama.encode('Hello', { addSpecialTokens: false })).toEqual(llama.encode('Hello').slice(1));
  });

  test('a folder without tokenizer.json is a FormatError naming it', async () => {
    await expect(HfTokenizer.load(FIXTURES)).rejects.toThrow(/has no tokenizer\.json/);
  });
});
