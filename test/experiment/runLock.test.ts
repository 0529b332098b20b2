/**
 * One writer per run folder, and a clean stop on SIGINT/SIGTERM: a second writer is refused with
 * the holder's pid, a lock left by a dead process is taken over, and a signal during training
 * writes a checkpoint and names the resume command, from which the run finishes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import { readCheckpoint } from '../../src/experiment/checkpoint.ts';
import { parseRunConfig, type RunConfigInput } from '../../src/experiment/config.ts';
import { RunInterrupted } from '../../src/experiment/interrupt.ts';
import { readMetrics } from '../../src/experiment/results.ts';
import { LOCK_FILE } from '../../src/experiment/runLock.ts';
import { runExperiment } from '../../src/experiment/runner.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = (out: string, overrides: Partial<RunConfigInput> = {}) =>
  parseRunConfig({ method: 'mezo', backend: 'cpu', task: 'synthetic-blobs', model: 'linear', lr: 0.01, steps: 12, checkpointEvery: 100, out, ...overrides });

function writeLock(dir: string, pid: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), '{}');
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }));
}

describe('run folder lock', () => {
  it('refuses a second writer, naming the holder, even with --force or --resume', async () => {
    const dir = join(root, 'busy');
    // the parent of this test process is alive for the whole test: a live holder
    writeLock(dir, process.ppid);
    await expect(runExperiment(config(dir, { force: true }))).rejects.toThrow(`run folder ${dir} is in use by pid ${process.ppid}`);
    await expect(runExperiment(config(dir), { resume: true })).rejects.toThrow(`in use by pid ${process.ppid}`);
    expect(existsSync(join(dir, 'config.json'))).toBe(true);
  });

  it('takes over a stale lock (its pid is gone) and removes its own at the end', async () => {
    const dir = join(root, 'stale');
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    writeLock(dir, gone);
    const { summary } = await runExperiment(config(dir, { force: true }));
    expect(summary.steps).toBe(12);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});

describe('SIGINT / SIGTERM during a run', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} writes a checkpoint at the current step and names the resume command`, async () => {
      const dir = join(root, `signal-${signal}`);
      const interrupted = runExperiment(config(dir), { afterStep: (step) => void (step === 5 && process.emit(signal)) });
      await expect(interrupted).rejects.toThrow(`stopped at step 5 of 12, checkpoint written. Resume with: zolo run --resume ${dir}`);
      await interrupted.catch((error: RunInterrupted) => expect(error.exitCode).toBe(signal === 'SIGINT' ? 130 : 143));
      expect((readCheckpoint(join(dir, 'checkpoint.safetensors')).state as { step: number }).step).toBe(5);
      expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
      expect(process.listenerCount(signal)).toBe(0);
      const { summary } = await runExperiment(config(dir), { resume: true });
      expect(summary.steps).toBe(12);
      expect(readMetrics(dir).filter((line) => line.trainLoss !== null && !line.eval).map((line) => line.step)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      expect(readFileSync(join(dir, 'summary.json'), 'utf8')).toContain('"status": "completed"');
    });
  }
});
