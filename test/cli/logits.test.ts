/** `zolo logits`: the last row of transformers' logits for given ids; text goes through tokenizer.json. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastPositionLogits, parseTokens } from '../../src/cli/logits.ts';
import { FIXTURES, reference } from '../nn/hf/fixtures.ts';

describe('zolo logits', () => {
  it('--tokens: the full-vocabulary last-position row of transformers\' logits (1e-4, as test/nn/hf/logits.test.ts)', async () => {
    const ref = reference('qwen2');
    const ids = ref.sequences[0]!;
    const { logits } = await lastPositionLogits({ model: join(FIXTURES, 'qwen2'), tokens: ids, backend: 'cpu' });
    const want = ref.logits[0]!.at(-1)!;
    expect(logits).toHaveLength(want.length);
    logits.forEach((value, i) => expect(Math.abs(value - want[i]!)).toBeLessThan(1e-4));
  });

  it('--text is encoded by the folder\'s tokenizer, BOS included, as in Python', async () => {
    const ref = reference('llama');
    const { tokens } = await lastPositionLogits({ model: join(FIXTURES, 'llama'), text: ref.strings[0]!, backend: 'cpu' });
    expect(tokens).toEqual(ref.tokenIds[0]);
  });

  it('refuses bad input before loading anything', async () => {
    expect(() => parseTokens('5,,7')).toThrow(/--tokens must be comma-separated non-negative integers/);
    await expect(lastPositionLogits({ model: join(FIXTURES, 'gpt2') })).rejects.toThrow(/exactly one of --tokens and --text/);
    await expect(lastPositionLogits({ model: FIXTURES, tokens: [1] })).rejects.toThrow(/must be a Hugging Face model folder/);
    await expect(lastPositionLogits({ model: join(FIXTURES, 'gpt2'), tokens: [1, 320], backend: 'cpu' })).rejects.toThrow(
      /batch.ids\[1\] = 320 is outside the model's vocabulary of 320 tokens/,
    );
  });
});
