import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPredictor, predictTexts, readInputLines, softmaxRow } from '../../src/cli/predict.ts';
import { PRETRAIN_DEFAULTS, type PretrainOptions, learningRateAt, pretrain } from '../../src/cli/pretrain.ts';
import { type CheckpointCard, readCard } from '../../src/data/checkpointCard.ts';
import { EmailTask } from '../../src/data/tasks.ts';
import { Tokenizer } from '../../src/data/tokenizer.ts';
import { CpuBackend } from '../../src/kernels/index.ts';
import { createModel } from '../../src/nn/index.ts';
import { readSafetensors } from '../../src/nn/safetensors.ts';
import { Engine } from '../../src/tensor/index.ts';
import '../../src/experiment/builtins.ts';
import { parseRunConfig } from '../../src/experiment/config.ts';
import { runExperiment } from '../../src/experiment/runner.ts';

const quiet = { start() {}, update() {}, log() {}, stop() {} };
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'zolo-pt-'));

function options(out: string, overrides: Partial<PretrainOptions> = {}): PretrainOptions {
  return {
    model: 'tiny', steps: 2, batch: 2, lr: 1e-3, seed: 0, out, optimizer: 'adamw', force: false,
    warmup: 1, minLrRatio: 0.1, weightDecay: 0.1, gradClip: 1, evalEvery: 0, evalWindows: 4, validationMessages: 6, probeTrainMessages: 8,
    ...overrides,
  };
}

describe('zolo pretrain: bad input', () => {
  it('names an unknown preset and the allowed ones', async () => {
    await expect(pretrain(options(join(tempDir(), 'x'), { model: 'huge' }), quiet)).rejects.toThrow(/model preset must be one of tiny, small, llama-tiny, llama-20m, got "huge"/);
  });

  it('rejects a vocabulary that does not fit the preset', async () => {
    await expect(pretrain(options(join(tempDir(), 'x'), { vocab: 5000 }), quiet)).rejects.toThrow(/--vocab must be an integer in \[261, 4096\] for preset tiny, got 5000/);
  });

  it('lists the allowed optimizers for an unknown one', async () => {
    await expect(pretrain(options(join(tempDir(), 'x'), { optimizer: 'sgd' }), quiet)).rejects.toThrow(/--optimizer must be one of adamw.*got "sgd"/);
  });

  it('refuses to overwrite a non-empty directory without --force', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'card.json'), '{}');
    await expect(pretrain(options(dir), quiet)).rejects.toThrow(/already exists and is not empty; pass --force/);
  });
});

describe('learning-rate schedule', () => {
  it('warms up linearly, then decays by cosine to minLrRatio·lr', () => {
    const o = { lr: 1, steps: 110, warmup: 10, minLrRatio: 0.1 };
    expect(learningRateAt(0, o)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(9, o)).toBeCloseTo(1, 12);
    expect(learningRateAt(60, o)).toBeCloseTo(0.55, 12);
    expect(learningRateAt(110, o)).toBeCloseTo(0.1, 12);
    expect(PRETRAIN_DEFAULTS.optimizer).toBe('adamw');
  });
});

describe('zolo pretrain with the low-rank optimizers', () => {
  it('relora trains only its adapters (no merge yet): base weights keep their initial values; the card records the settings', async () => {
    const dir = join(tempDir(), 'relora');
    const optimizerOptions = { lora: { rank: 2 }, relora: { resetEvery: 1000, rewarmupSteps: 1 } };
    const card = await pretrain(options(dir, { optimizer: 'relora', optimizerOptions }), quiet);
    expect((card.training as { optimizerOptions?: unknown }).optimizerOptions).toEqual(optimizerOptions);
    const initial = createModel(new Engine(new CpuBackend()), { kind: 'causal-lm', preset: 'tiny', overrides: { vocab: card.config.vocab as number }, seed: 0 });
    const after = await readSafetensors(join(dir, 'model.safetensors'));
    expect([...after.tensors.keys()].filter((name) => !initial.params.has(name)).length).toBeGreaterThan(0); // the adapters
    expect(after.tensors.get('blocks.0.mlp.fc1.weight')!.data).toEqual(await initial.params.tensor('blocks.0.mlp.fc1.weight').read());
  }, 600_000);
});

describe('pretrain → checkpoint directory → predict', () => {
  const dir = join(tempDir(), 'ckpt');
  let card: CheckpointCard;

  beforeAll(async () => {
    card = await pretrain(options(dir), quiet);
  });

  it('writes weights, tokenizer and a card that reads back', () => {
    const read = readCard(dir);
    expect(read).toEqual(card);
    expect(card.head).toBe('prompt');
    expect(card.parameters).toBe(929_280);
    expect(card.training.steps).toBe(2);
    expect(card.evaluation.validationMessages).toBe(6);
    expect(Number(card.evaluation.validationPerplexity)).toBeGreaterThan(1);
    // the card metrics of `zolo card`, on the same 6 validation (and test) messages
    expect(card.evaluation).toMatchObject({ metrics: { trainMessages: 8, validationMessages: 6, testMessages: 6 } });
    for (const key of ['validationBitsPerByte', 'zeroShotPromptAccuracy', 'zeroShotPromptTestAccuracy', 'linearProbeValidationAccuracy', 'linearProbeTestAccuracy', 'majorityClassAccuracy', 'majorityClassTestAccuracy']) {
      expect(typeof card.evaluation[key]).toBe('number');
    }
    // trained on the full train split: the default label words are single tokens
    const tokenizer = Tokenizer.load(join(dir, card.tokenizer));
    expect(tokenizer.vocabSize).toBe(4096);
    expect(new EmailTask(tokenizer, [], { seq: 64, format: 'prompt' }).labelTokenIds).toHaveLength(2);
  });

  it('refuses to pretrain into it again without --force', async () => {
    await expect(pretrain(options(dir), quiet)).rejects.toThrow(/pass --force/);
  });

  it('predicts probabilities that are the softmax of label-word logits, deterministic per text', async () => {
    const input = join(tempDir(), 'in.jsonl');
    const texts = ['Subject: meeting\nsee you at the list meeting tomorrow', 'Subject: FREE MONEY\nclick here now to win $$$'];
    writeFileSync(input, `${texts.map((text) => JSON.stringify({ text })).join('\n')}\n\n`);
    expect(readInputLines(input)).toEqual(texts);
    const predictor = await loadPredictor(dir);
    try {
      const predictions = await predictTexts(predictor, texts, 1);
      const batched = await predictTexts(predictor, [...texts].reverse(), 2);
      expect(predictions).toHaveLength(2);
      for (const p of predictions) {
        expect(p.logitKind).toBe('label-word');
        const probs = softmaxRow(p.logits);
        expect(p.probabilities.ham).toBeCloseTo(probs[0]!, 12);
        expect(p.probabilities.ham! + p.probabilities.spam!).toBeCloseTo(1, 12);
        expect(['ham', 'spam']).toContain(p.label);
      }
      // batching and order do not change a text's logits beyond float32 rounding of the same kernels
      predictions[0]!.logits.forEach((l, i) => expect(batched[1]!.logits[i]).toBeCloseTo(l, 4));
    } finally {
      predictor.dispose();
    }
  });

  it('gives clear errors for bad input files and mismatched tokenizers', async () => {
    const bad = join(tempDir(), 'bad.jsonl');
    writeFileSync(bad, '{"text": "ok"}\n{"body": "x"}\n');
    expect(() => readInputLines(bad)).toThrow(/bad\.jsonl:2: each line must be an object with a string "text"/);
    writeFileSync(bad, '{"text": \n');
    expect(() => readInputLines(bad)).toThrow(/bad\.jsonl:1: not valid JSON/);

    // a tokenizer with more tokens than the checkpoint's vocabulary
    const other = tempDir();
    const tokenizerJson = JSON.parse(readFileSync(join(dir, card.tokenizer), 'utf8')) as { merges: number[]; vocabSize: number };
    tokenizerJson.merges.push(300, 301);
    tokenizerJson.vocabSize += 1;
    writeFileSync(join(other, card.tokenizer), JSON.stringify(tokenizerJson));
    writeFileSync(join(other, 'card.json'), JSON.stringify(card));
    writeFileSync(join(other, card.weights), readFileSync(join(dir, card.weights)));
    await expect(loadPredictor(other)).rejects.toThrow(/has 4097 tokens, more than the checkpoint's vocabulary of 4096/);

    writeFileSync(join(other, 'card.json'), JSON.stringify({ ...card, head: 'regression' }));
    await expect(loadPredictor(other)).rejects.toThrow(/"head" must be one of prompt, classifier, got "regression"/);
    mkdirSync(join(other, 'empty'));
    await expect(loadPredictor(join(other, 'empty'))).rejects.toThrow(/has no card\.json/);
  });

  it('rejects a sequence longer than the checkpoint was built for', async () => {
    const predictor = await loadPredictor(dir);
    try {
      const long = new EmailTask(predictor.tokenizer, [], { seq: 128, format: 'prompt' });
      expect(() => predictor.model.forward(long.batchOfTexts(['hello']))).toThrow(/batch\.seq must be at most the model's sequence length 64, got 128/);
    } finally {
      predictor.dispose();
    }
  });
});

describe('llama-tiny: pretrain from scratch → checkpoint → predict, fine-tune, predict', () => {
  it('writes a LLaMA checkpoint that zolo predict and zolo run read', async () => {
    const dir = join(tempDir(), 'llama');
    const card = await pretrain(options(dir, { model: 'llama-tiny', optimizer: 'galore-adamw' }), quiet);
    expect(card.preset).toBe('llama-tiny');
    expect(card.config).toMatchObject({ family: 'llama', dModel: 96, layers: 2, vocab: 4096, tiedEmbeddings: false });
    expect(card.parameters).toBe(1_008_096);
    const texts = ['Subject: lunch\nsee you at noon'];
    const base = await loadPredictor(dir, 'cpu');
    const baseLogits = (await predictTexts(base, texts))[0]!.logits;
    base.dispose();

    const run = join(tempDir(), 'llama-run');
    await runExperiment(parseRunConfig({
      method: 'mezo', backend: 'cpu', task: 'spam', model: dir, steps: 2, batchSize: 2, lr: 1e-2, evalSize: 4, taskOptions: { shots: 2, seq: 32 }, checkpointEvery: 0, out: run,
    }));
    expect(readCard(run).config).toMatchObject({ family: 'llama' });
    const tuned = await loadPredictor(run, 'cpu');
    const tunedLogits = (await predictTexts(tuned, texts))[0]!.logits;
    tuned.dispose();
    expect(tunedLogits).toHaveLength(2);
    expect(tunedLogits).not.toEqual(baseLogits);
  });
});
