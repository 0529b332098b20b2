import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { loadSplit } from '../../src/data/spam.ts';
import { FIRST_MERGE_ID, SPECIAL_IDS, Tokenizer, trainTokenizer } from '../../src/data/tokenizer.ts';

// 600 training messages keep the suite fast; the full split trains in ~1 s (docs/data.md).
const texts = loadSplit('train').slice(0, 600).map((e) => e.text);
const tokenizer = trainTokenizer(texts, { vocabSize: 1024 });
const alphabet = [...new Set(texts.join(''))];

describe('byte-level BPE tokenizer', () => {
  it('reaches the requested vocabulary and keeps the documented special ids', () => {
    expect(tokenizer.vocabSize).toBe(1024);
    expect(SPECIAL_IDS).toEqual({ pad: 0, unk: 1, bos: 2, eos: 3, sep: 4 });
    expect(tokenizer.tokenToString(SPECIAL_IDS.eos)).toBe('<eos>');
    expect(tokenizer.merges).toHaveLength(1024 - FIRST_MERGE_ID);
  });

  it('round-trips every training message exactly', () => {
    for (const text of texts) expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
  });

  test.prop([fc.array(fc.constantFrom(...alphabet), { maxLength: 200 }).map((chars) => chars.join(''))], { seed: 4, numRuns: 300 })(
    'round-trips random strings over the training alphabet',
    (text) => {
      expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    },
  );

  test.prop([fc.string({ unit: 'grapheme', maxLength: 80 })], { seed: 5, numRuns: 300 })('round-trips arbitrary well-formed Unicode', (text) => {
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
  });

  it('compresses text it was trained on', () => {
    const chars = texts.reduce((n, t) => n + t.length, 0);
    const tokens = texts.reduce((n, t) => n + tokenizer.encode(t).length, 0);
    expect(chars / tokens).toBeGreaterThan(2);
  });

  it('is deterministic and independent of the order of the training texts', () => {
    const again = trainTokenizer([...texts].reverse(), { vocabSize: 1024 });
    expect(again.merges).toEqual(tokenizer.merges);
  });

  it('saves and loads to an equal tokenizer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'zolo-tok-'));
    const path = join(dir, 'tokenizer.json');
    tokenizer.save(path);
    const loaded = Tokenizer.load(path);
    expect(loaded.toJSON()).toEqual(tokenizer.toJSON());
    for (const text of texts.slice(0, 50)) expect(loaded.encode(text)).toEqual(tokenizer.encode(text));
  });

  it('gives clear errors for bad sizes, ids and files', () => {
    expect(() => trainTokenizer(texts, { vocabSize: 100 })).toThrow(/tokenizer\.vocabSize must be in \[261, 65536\].*got 100/);
    expect(() => tokenizer.decode([1024])).toThrow(/token id must be an integer in \[0, 1024\), got 1024/);
    const dir = mkdtempSync(join(tmpdir(), 'zolo-tok-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"format": "something-else"}');
    expect(() => Tokenizer.load(bad)).toThrow(/is not a zolo tokenizer/);
    writeFileSync(bad, '{"format": "zolo-byte-bpe", "vers');
    expect(() => Tokenizer.load(bad)).toThrow(/is not valid JSON/);
    expect(() => Tokenizer.load(join(dir, 'missing.json'))).toThrow(/cannot read tokenizer file/);
  });
});
