/**
 * `zolo predict --out`: the output file is checked before the model is loaded — never the input
 * (not even with --force, not even through a symlink), never an existing file without --force, never
 * a missing folder (a ConfigError, not a stack trace) — and written atomically.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/predict.ts';
import { ConfigError } from '../../src/errors.ts';

const shipped = join(import.meta.dirname, '..', '..', 'checkpoints', 'tiny');
const root = mkdtempSync(join(tmpdir(), 'zolo-predict-out-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const mails = `${JSON.stringify({ text: 'Subject: lunch\nare we still on for friday?' })}\n`;

async function predict(...args: string[]): Promise<void> {
  const program = new Command().exitOverride();
  register(program);
  const spy = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    await program.parseAsync(['node', 'zolo', 'predict', '--model', shipped, '--backend', 'cpu', ...args]);
  } finally {
    spy.mockRestore();
  }
}

describe('zolo predict --out', () => {
  it('refuses its own input as output, even with --force or through a symlink', async () => {
    const input = join(root, 'mails.jsonl');
    writeFileSync(input, mails);
    await expect(predict('--input', input, '--out', input)).rejects.toThrow(/is the input file/);
    await expect(predict('--input', input, '--out', input, '--force')).rejects.toThrow(ConfigError);
    symlinkSync(input, join(root, 'link.jsonl'));
    await expect(predict('--input', input, '--out', join(root, 'link.jsonl'), '--force')).rejects.toThrow(/is the input file/);
    expect(readFileSync(input, 'utf8')).toBe(mails);
  });

  it('refuses to overwrite without --force, overwrites atomically with it', async () => {
    const input = join(root, 'in.jsonl');
    const out = join(root, 'out.jsonl');
    writeFileSync(input, mails);
    writeFileSync(out, 'keep me\n');
    await expect(predict('--input', input, '--out', out)).rejects.toThrow(/exists; pass --force/);
    expect(readFileSync(out, 'utf8')).toBe('keep me\n');
    await predict('--input', input, '--out', out, '--force');
    expect(JSON.parse(readFileSync(out, 'utf8').trim())).toMatchObject({ line: 1, logitKind: 'label-word' });
    expect(readdirSync(root).filter((name) => name.includes('.tmp-'))).toEqual([]);
  });

  it('says clearly that the output folder is missing', async () => {
    const input = join(root, 'in2.jsonl');
    writeFileSync(input, mails);
    await expect(predict('--input', input, '--out', join(root, 'missing', 'out.jsonl'))).rejects.toThrow(/the folder .*missing does not exist/);
  });
});
