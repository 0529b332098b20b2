/**
 * `zolo card` on a copy of the shipped tiny checkpoint, on a small subset (the first 32 training,
 * 16 validation and 16 test e-mails): prints without touching the card; --write merges the metrics
 * into card.json and keeps every other field.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureCommand } from './captureCommand.ts';
import { register } from '../../src/cli/card.ts';
import { loadSplit } from '../../src/data/spam.ts';
import { BUILTIN_CHECKPOINTS_DIR } from '../../src/experiment/spamWorkload.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-card-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, 'tiny');
cpSync(join(BUILTIN_CHECKPOINTS_DIR, 'tiny'), dir, { recursive: true });

const zolo = (...args: string[]): Promise<string> => captureCommand(register, [...args]);

const subset = ['--train-size', '32', '--eval-size', '16', '--batch', '16'];

describe('zolo card', () => {
  it('prints the metrics and leaves card.json alone without --write, then merges them with --write', async () => {
    const before = readFileSync(join(dir, 'card.json'), 'utf8');
    const printed = await zolo('card', '--model', dir, ...subset);
    expect(printed).toMatch(/validation bits per byte\s+\d+\.\d+/);
    expect(printed).toMatch(/linear probe \(λ [\d.e-]+\)\s+validation \d+\.\d%, test \d+\.\d%/);
    expect(printed).toMatch(/32 train \/ 16 validation \/ 16 test e-mails/);
    expect(printed).toMatch(/pass --write/);
    expect(readFileSync(join(dir, 'card.json'), 'utf8')).toBe(before);

    await zolo('card', '--model', dir, '--write', ...subset);
    const old = JSON.parse(before) as { evaluation: Record<string, unknown>; training: unknown };
    const card = JSON.parse(readFileSync(join(dir, 'card.json'), 'utf8')) as typeof old;
    expect(card.training).toEqual(old.training);
    expect(card.evaluation.validationPerplexity).toEqual(old.evaluation.validationPerplexity);
    const e = card.evaluation as Record<string, number>;
    // a byte-level model with perplexity ≈ 255 per token of a few bytes: well inside (0, 8) bits per byte
    expect(e.validationBitsPerByte).toBeGreaterThan(0);
    expect(e.validationBitsPerByte).toBeLessThan(8);
    // the class prior, from the corpus: the training majority (ham among the first 32) in the first 16 of each split
    const trainHam = loadSplit('train').slice(0, 32).filter((m) => m.label === 0).length;
    const majority = trainHam >= 16 ? 0 : 1;
    for (const [key, split] of [['majorityClassAccuracy', 'validation'], ['majorityClassTestAccuracy', 'test']] as const) {
      const share = loadSplit(split).slice(0, 16).filter((m) => m.label === majority).length / 16;
      expect(e[key]).toBe(share);
    }
    for (const key of ['zeroShotPromptAccuracy', 'zeroShotPromptTestAccuracy', 'linearProbeValidationAccuracy', 'linearProbeTestAccuracy']) {
      // each is a count out of 16, rounded to 4 decimals
      expect(Math.abs(e[key]! * 16 - Math.round(e[key]! * 16))).toBeLessThan(16 * 5e-5);
    }
    expect(card.evaluation.metrics).toMatchObject({ trainMessages: 32, validationMessages: 16, testMessages: 16 });
  });

  it('names a bad size and a missing checkpoint', async () => {
    await expect(zolo('card', '--model', dir, '--eval-size', '-1')).rejects.toThrow(/--eval-size must be an integer ≥ 0 \(0 = the whole split\), got -1/);
    await expect(zolo('card', '--model', join(root, 'nowhere'))).rejects.toThrow(/model must be tiny, small, a checkpoint directory holding card.json or a Hugging Face model folder/);
  });
});
