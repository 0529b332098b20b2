import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { fewShot, loadSplit } from '../../src/data/spam.ts';
import { EmailTask, IGNORE_INDEX, LmTask, packTokens, unigramPerplexity } from '../../src/data/tasks.ts';
import { SPECIAL_IDS, trainTokenizer } from '../../src/data/tokenizer.ts';

const train = loadSplit('train').slice(0, 300);
const tokenizer = trainTokenizer(train.map((e) => e.text), { vocabSize: 2048 });
// frequent words, single tokens even in this small vocabulary; the defaults (" ham", " spam") are
// single tokens of the full-split 4096 tokenizer (checked in the checkpoint test)
const prompt = { labelWords: [' the', ' to'] as [string, string] };

describe('causal LM batches', () => {
  const task = LmTask.fromTexts(tokenizer, train.map((e) => e.text), 32);

  it('packs [bos] text [eos] per message', () => {
    const stream = packTokens(tokenizer, ['ab', 'c']);
    expect([...stream]).toEqual([SPECIAL_IDS.bos, ...tokenizer.encode('ab'), SPECIAL_IDS.eos, SPECIAL_IDS.bos, ...tokenizer.encode('c'), SPECIAL_IDS.eos]);
  });

  test.prop([fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 50 })], { seed: 11, numRuns: 40 })(
    'targets are the inputs shifted by one, padding ignored',
    (batchSize, seed, step) => {
      const batch = task.sampler(batchSize, seed).batchAt(step);
      expect(batch.ids).toHaveLength(batchSize * 32);
      for (let row = 0; row < batchSize; row++) {
        for (let t = 0; t + 1 < 32; t++) {
          const next = batch.targets[row * 32 + t + 1];
          if (next !== IGNORE_INDEX) expect(batch.targets[row * 32 + t]).toBe(batch.ids[row * 32 + t + 1]);
        }
      }
    },
  );

  it('covers the stream exactly once in evaluation order, padding only the last window', () => {
    const predicted: number[] = [];
    for (const batch of task.evalBatches(7)) for (const t of batch.targets) if (t !== IGNORE_INDEX) predicted.push(t);
    expect(predicted).toEqual([...task.stream.subarray(1)]);
    expect(predicted.length).toBe(task.targetCount);
  });

  it('is deterministic by seed and reshuffles every epoch', () => {
    const a = task.sampler(4, 3);
    const firstOfEpoch1 = task.epoch(4, 3, 1).next().value!;
    expect(firstOfEpoch1.ids).toEqual(a.batchAt(a.batchesPerEpoch).ids);
    const b = task.sampler(4, 3);
    expect(a.batchAt(5).ids).toEqual(b.batchAt(5).ids);
    expect(a.batchAt(0).ids).not.toEqual(a.batchAt(a.batchesPerEpoch).ids);
    expect(task.sampler(4, 4).batchAt(0).ids).not.toEqual(a.batchAt(0).ids);
  });

  it('has a unigram baseline far below the vocabulary size', () => {
    const ppl = unigramPerplexity(task.stream, task, tokenizer.vocabSize);
    expect(ppl).toBeGreaterThan(10);
    expect(ppl).toBeLessThan(tokenizer.vocabSize);
  });

  it('rejects a stream too short and a bad seq', () => {
    expect(() => new LmTask(Int32Array.of(1), 8)).toThrow(/at least 2 tokens/);
    expect(() => new LmTask(Int32Array.of(1, 2, 3), 0)).toThrow(/seq must be a positive integer, got 0/);
    expect(() => task.sampler(task.windowCount + 1, 0)).toThrow(/batchSize must be at most/);
  });
});

describe('e-mail classification batches', () => {
  const examples = fewShot(train, 16, 0);

  it('classifier rows start with bos, are cut to seq and masked', () => {
    const task = new EmailTask(tokenizer, examples, { seq: 24, format: 'classifier' });
    const batch = task.batchOf([0, 1, 2]);
    for (let r = 0; r < 3; r++) {
      expect(batch.ids[r * 24]).toBe(SPECIAL_IDS.bos);
      const expected = [SPECIAL_IDS.bos, ...tokenizer.encode(examples[r]!.text)].slice(0, 24);
      expect([...batch.ids.subarray(r * 24, r * 24 + batch.lengths[r]!)]).toEqual(expected);
      for (let t = 0; t < 24; t++) expect(batch.mask[r * 24 + t]).toBe(t < batch.lengths[r]! ? 1 : 0);
    }
    expect([...batch.labels]).toEqual(examples.slice(0, 3).map((e) => e.label));
  });

  test.prop([fc.integer({ min: 12, max: 80 }), fc.string({ maxLength: 400 })], { seed: 12, numRuns: 100 })(
    'prompt rows keep the whole template and read logits at its end',
    (seq, text) => {
      const task = new EmailTask(tokenizer, [], { seq, format: 'prompt', prompt });
      const batch = task.batchOfTexts([text]);
      const suffix = tokenizer.encode(task.template.suffix);
      const n = batch.lengths[0]!;
      expect(n).toBeLessThanOrEqual(seq);
      expect([...batch.ids.subarray(n - suffix.length, n)]).toEqual(suffix);
      expect(batch.lastPosition[0]).toBe(n - 1);
      const body = [...batch.ids.subarray(1, n - suffix.length)];
      expect(body).toEqual(tokenizer.encode(text).slice(0, seq - 1 - suffix.length));
      for (let t = n; t < seq; t++) expect(batch.ids[t]).toBe(SPECIAL_IDS.pad);
    },
  );

  it('maps label words to single tokens and rejects words that are not', () => {
    const task = new EmailTask(tokenizer, examples, { seq: 64, format: 'prompt', prompt });
    expect([...task.labelTokenIds].map((id) => tokenizer.tokenToString(id))).toEqual([' the', ' to']);
    expect(() => new EmailTask(tokenizer, examples, { seq: 64, format: 'prompt' })).toThrow(/got " ham" → 2 tokens/);
    expect(() => new EmailTask(tokenizer, examples, { seq: 64, format: 'prompt', prompt: { labelWords: [' the', ' xqzzyv'] } })).toThrow(
      /label word for class spam must be a single token .* got " xqzzyv"/,
    );
    expect(() => new EmailTask(tokenizer, examples, { seq: 3, format: 'prompt', prompt })).toThrow(/seq must exceed the prompt template/);
    expect(() => new EmailTask(tokenizer, examples, { seq: 64, format: 'mlm' as 'prompt' })).toThrow(/format must be one of classifier, prompt/);
  });

  it('samples full, seeded batches', () => {
    const task = new EmailTask(tokenizer, examples, { seq: 32, format: 'prompt', prompt });
    const sampler = task.sampler(8, 1);
    expect(sampler.batchesPerEpoch).toBe(4);
    expect(sampler.batchAt(3).labels).toEqual(task.sampler(8, 1).batchAt(3).labels);
    // the epoch iterator yields the sampler's batches; one epoch sees every example once
    const epoch1 = [...task.epoch(8, 1, 1)];
    expect(epoch1.map((b) => [...b.labels])).toEqual([4, 5, 6, 7].map((s) => [...sampler.batchAt(s).labels]));
    expect(epoch1.reduce((n, b) => n + b.labels.filter((l) => l === 1).length, 0)).toBe(16);
    expect([...task.epoch(10, 1, 0, true)].map((b) => b.batch)).toEqual([10, 10, 10, 2]);
  });
});
