/**
 * `zolo predict` on Hugging Face models (src/cli/hfPredictor.ts), on the committed fixtures: a model
 * folder gives the next-token logits of the label words after "[bos] <e-mail> <suffix>"; a run
 * fine-tuned from a folder predicts from its merged `hf/` export with the run's prompt, and — with
 * no export — from its source folder, adapters and model.safetensors, to the same values. The
 * fixtures' 320-token vocabulary has no single-token " ham"/" spam", so the runs and the flags name
 * one-byte label words.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import { loadClassifier, predictTexts, register } from '../../src/cli/predict.ts';
import { DEFAULT_PROMPT_SUFFIX } from '../../src/data/tasks.ts';
import { parseRunConfig } from '../../src/experiment/config.ts';
import { runExperiment } from '../../src/experiment/runner.ts';
import { HF_EXPORT_DIR } from '../../src/experiment/spamWorkload.ts';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { HfTokenizer } from '../../src/nn/hf/tokenizer.ts';
import { loadHfModel } from '../../src/nn/hf/load.ts';
import { Engine } from '../../src/tensor/tensor.ts';
import { FIXTURES } from '../nn/hf/fixtures.ts';
import { captureCommand } from './captureCommand.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-predict-hf-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const texts = ['Subject: win money now\nclick here to claim your prize', 'Subject: lunch\nare we still on for friday?'];
const labelWords = ['n', 'y'] as const;
const taskOptions = { shots: 4, seq: 40, prompt: { labelWords } };

async function logitsOf(model: string, prompt: Parameters<typeof loadClassifier>[2] = {}): Promise<number[][]> {
  const classifier = await loadClassifier(model, 'cpu', prompt);
  try {
    return (await predictTexts(classifier, texts)).map((prediction) => prediction.logits);
  } finally {
    classifier.dispose();
  }
}

async function fineTune(name: string, method: string, source: string, options: Record<string, unknown> = {}): Promise<string> {
  const out = join(root, name);
  await runExperiment(parseRunConfig({
    method, backend: 'cpu', task: 'spam', model: source, taskOptions, options, steps: 2, batchSize: 4, lr: 1e-2,
    evalSize: 4, checkpointEvery: 0, out,
  }));
  return out;
}

describe('zolo predict on a Hugging Face folder', () => {
  it('gives the model\'s next-token logits of the label words after "[bos] <e-mail> <suffix>"', async () => {
    const source = join(FIXTURES, 'llama');
    const text = 'Subject: hi\nsee you';
    const classifier = await loadClassifier(source, 'cpu', { labelWords });
    const [got] = (await predictTexts(classifier, [text])).map((prediction) => prediction.logits);
    classifier.dispose();
    const tokenizer = await HfTokenizer.load(source);
    const ids = [tokenizer.specialTokenId('bos')!, ...tokenizer.encode(text, { addSpecialTokens: false }), ...tokenizer.encode(DEFAULT_PROMPT_SUFFIX, { addSpecialTokens: false })];
    const model = await loadHfModel(source, new Engine(new CpuBackend()));
    const vocab = model.config.vocab;
    const all = model.forward({ ids: Int32Array.from(ids), batch: 1, seq: ids.length }).readSync().subarray((ids.length - 1) * vocab);
    const labelIds = labelWords.map((word) => tokenizer.encode(word, { addSpecialTokens: false })[0]!);
    // the same dot products h·E[w], summed in the same order by the prompt head and the full output layer
    labelIds.forEach((id, c) => expect(got![c]).toBeCloseTo(all[id]!, 6));
  });

  it('names a label word that is not one token, and refuses prompt flags for a checkpoint directory', async () => {
    await expect(loadClassifier(join(FIXTURES, 'gpt2'), 'cpu')).rejects.toThrow(/label word for class ham must be a single token of the tokenizer \(vocab 320\), got " ham".*; --label-words ham,spam chooses words that are one token/);
    await expect(loadClassifier(join(FIXTURES, 'gpt2'), 'cpu', { labelWords, seq: 65 })).rejects.toThrow(/--seq must be at most the model's context of 64 tokens, got 65/);
    const shipped = join(import.meta.dirname, '..', '..', 'checkpoints', 'tiny');
    await expect(loadClassifier(shipped, 'cpu', { labelWords })).rejects.toThrow(/are for Hugging Face models; .*card\.json sets the prompt of this checkpoint \(got labelWords\)/);
    await expect(loadClassifier(root, 'cpu')).rejects.toThrow(/is not a checkpoint directory \(no card\.json\), a Hugging Face model folder \(no config\.json\) or a zolo run folder/);
  });

  it('prints JSON lines through the command, with --label-words', async () => {
    const input = join(root, 'mails.jsonl');
    writeFileSync(input, texts.map((text) => JSON.stringify({ text })).join('\n'));
    const printed = await captureCommand(register, ['predict', '--model', join(FIXTURES, 'qwen2'), '--input', input, '--backend', 'cpu', '--label-words', 'n,y', '--json']);
    const lines = printed.split('\n').map((line) => JSON.parse(line) as { line: number; probabilities: Record<string, number>; logitKind: string });
    expect(lines.map((line) => line.line)).toEqual([1, 2]);
    for (const line of lines) {
      expect(line.logitKind).toBe('label-word');
      expect(line.probabilities.ham! + line.probabilities.spam!).toBeCloseTo(1, 12);
    }
    await expect(captureCommand(register, ['predict', '--model', join(FIXTURES, 'qwen2'), '--input', input, '--label-words', 'n'])).rejects.toThrow(/--label-words must be two non-empty words separated by a comma/);
  });
});

describe('zolo predict on a run fine-tuned from a Hugging Face folder', () => {
  it('MeZO on LLaMA: predicts from the hf/ export with the run\'s prompt and seq; the weights moved', async () => {
    const run = await fineTune('mezo', 'mezo', join(FIXTURES, 'llama'));
    const fromRun = await logitsOf(run);
    expect(fromRun).toEqual(await logitsOf(join(run, HF_EXPORT_DIR), { labelWords, seq: taskOptions.seq }));
    expect(fromRun).not.toEqual(await logitsOf(join(FIXTURES, 'llama'), { labelWords, seq: taskOptions.seq }));

    // the export stands alone: a run whose source folder is gone (or named relative to another directory) still predicts
    const moved = join(root, 'mezo-moved');
    cpSync(run, moved, { recursive: true });
    const configFile = join(moved, 'config.json');
    writeFileSync(configFile, JSON.stringify({ ...JSON.parse(readFileSync(configFile, 'utf8')), model: 'no/such/folder' }));
    expect(await logitsOf(moved)).toEqual(fromRun);
    rmSync(join(moved, HF_EXPORT_DIR), { recursive: true });
    await expect(loadClassifier(moved, 'cpu')).rejects.toThrow(/run folder on model "no\/such\/folder" with neither card\.json nor an hf\/ export; .* is not one/);
  });

  it('LoRA on GPT-2\'s q and v slices: the merged export and the rebuilt adapters predict alike', async () => {
    const run = await fineTune('lora', 'lora', join(FIXTURES, 'gpt2'), { lora: { targets: ['attn.c_attn.q', 'attn.c_attn.v'], rank: 2, alpha: 4 } });
    const merged = await logitsOf(run);
    const unexported = join(root, 'lora-unexported');
    cpSync(run, unexported, { recursive: true });
    rmSync(join(unexported, HF_EXPORT_DIR), { recursive: true });
    const rebuilt = await logitsOf(unexported);
    // x·(W + ΔW)ᵀ vs x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ: float32 sums in a different order, γ_(d+r)·Σ|terms| ≈ 2e-6 per projection
    merged.flat().forEach((value, i) => expect(Math.abs(value - rebuilt.flat()[i]!)).toBeLessThan(1e-5));
    expect(merged).not.toEqual(await logitsOf(join(FIXTURES, 'gpt2'), { labelWords, seq: taskOptions.seq }));
  });
});
