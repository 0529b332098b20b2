/**
 * `zolo run --resume` as a user meets it: a larger --steps extends the run (and the summary says
 * so), any other changed setting is refused with the list of differences, and resuming a finished
 * run is a no-op that appends nothing to metrics.jsonl.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import { captureCommand } from '../cli/captureCommand.ts';
import { register } from '../../src/cli/run.ts';
import { readMetrics } from '../../src/experiment/results.ts';
import type { RunSummary } from '../../src/experiment/runner.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-resume-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => {
  process.exitCode = undefined;
});

const zolo = (...args: string[]): Promise<string> => captureCommand(register, ['run', ...args]);

const BASE = ['--method', 'mezo', '--task', 'synthetic-blobs', '--model', 'linear', '--backend', 'cpu', '--lr', '0.01', '--checkpoint-every', '5'];
const summaryOf = (dir: string): RunSummary => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));

describe('zolo run --resume', () => {
  it('a larger --steps extends a finished run, and the summary says so', async () => {
    const dir = join(root, 'extend');
    await zolo(...BASE, '--steps', '12', '--out', dir);
    const output = await zolo('--resume', dir, '--steps', '20');
    expect(output).toContain('extended steps: 12 → 20');
    const summary = summaryOf(dir);
    expect(summary.steps).toBe(20);
    expect(summary.extensions).toEqual([{ key: 'steps', from: 12, to: 20 }]);
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).steps).toBe(20);
    const trainSteps = readMetrics(dir).filter((line) => line.trainLoss !== null && !line.eval).map((line) => line.step);
    expect(trainSteps).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it('resuming a finished run is a no-op that says so and appends nothing', async () => {
    const dir = join(root, 'finished');
    await zolo(...BASE, '--steps', '8', '--out', dir);
    const metrics = readFileSync(join(dir, 'metrics.jsonl'), 'utf8');
    const summary = readFileSync(join(dir, 'summary.json'), 'utf8');
    expect(await zolo('--resume', dir)).toMatch(/already finished .*nothing to do/);
    expect(await zolo('--resume', dir, '--steps', '8')).toMatch(/already finished/);
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).toBe(metrics);
    expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toBe(summary);
  });

  it('refuses any other changed setting, listing every difference', async () => {
    const dir = join(root, 'refuse');
    await zolo(...BASE, '--steps', '6', '--out', dir);
    const refusal = zolo('--resume', dir, '--steps', '10', '--lr', '0.02', '--set', 'options.eps=0.01');
    await expect(refusal).rejects.toThrow(/lr: 0\.01 → 0\.02\n\s+options\.eps: unset → 0\.01/);
    await expect(zolo('--resume', dir, '--steps', '4')).rejects.toThrow(/steps: 6 → 4 \(a limit may only grow\)/);
    expect(summaryOf(dir).steps).toBe(6);
  });
});
