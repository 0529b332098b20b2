import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import './fixtures/fixtureMethods.ts';
import { readCheckpoint } from '../../src/experiment/checkpoint.ts';
import { parseRunConfig, type RunConfigInput } from '../../src/experiment/config.ts';
import { readMetrics } from '../../src/experiment/results.ts';
import { runExperiment, type RunSummary } from '../../src/experiment/runner.ts';
import { ConfigError } from '../../src/errors.ts';
import { CpuBackend } from '../../src/kernels/index.ts';
import { readSafetensors } from '../../src/nn/safetensors.ts';
import { Engine, ParamStore } from '../../src/tensor/index.ts';
import { parseZoLog, replayZo } from '../../src/zo/index.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-runner-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (): string => join(root, `run-${counter++}`);

function config(overrides: Partial<RunConfigInput>) {
  return parseRunConfig({ backend: 'cpu', task: 'synthetic-blobs', model: 'linear', steps: 40, evalInterval: 10, checkpointEvery: 7, out: freshDir(), ...overrides });
}

/** Everything in a summary that must not depend on timing. */
function numbers(summary: RunSummary) {
  const { timing: _timing, selected, firstReached, ...rest } = summary;
  const withoutSeconds = <T extends { wallSeconds: number }>(point: T | null) => (point === null ? null : { ...point, wallSeconds: undefined });
  return { ...rest, selected: withoutSeconds(selected), firstReached: Object.fromEntries(Object.entries(firstReached).map(([target, point]) => [target, withoutSeconds(point)])) };
}

const withoutWall = (dir: string) => readMetrics(dir).map(({ wallMs: _wallMs, ...rest }) => rest);

async function paramsOf(file: string): Promise<Map<string, Float32Array>> {
  const { tensors } = await readSafetensors(file);
  return new Map([...tensors].map(([name, entry]) => [name, entry.data]));
}

class SimulatedKill extends Error {}

describe('zolo run', () => {
  it('the same config and seed give the same summary numbers (cpu), for ZO and backprop methods', async () => {
    for (const method of ['mezo', 'fixture-sgd', 'lozo']) {
      const first = await runExperiment(config({ method, lr: 0.01 }));
      const second = await runExperiment(config({ method, lr: 0.01 }));
      expect(numbers(second.summary)).toEqual(numbers(first.summary));
      expect(withoutWall(second.dir)).toEqual(withoutWall(first.dir));
    }
  });

  it('writes metrics.jsonl and summary.json with the documented fields', async () => {
    const { dir, summary } = await runExperiment(config({ method: 'mezo', lr: 0.01 }));
    expect(summary).toMatchObject({ method: 'mezo', task: 'synthetic-blobs', model: 'linear', backend: 'cpu', steps: 40, forwardPasses: 80, status: 'completed', trainableParams: 34 });
    expect(Object.keys(summary.memory.peakBytes).sort()).toEqual(['activation', 'adapter', 'gradient', 'optimizerState', 'total', 'weights', 'workspace']);
    expect(summary.eval!.accuracy).toBeGreaterThan(0.5);
    const lines = readMetrics(dir);
    expect(lines[0]).toMatchObject({ step: 0, forwardPasses: 0, trainLoss: null });
    expect(lines.filter((line) => line.eval).map((line) => line.step)).toEqual([0, 10, 20, 30, 40]);
    expect(lines.at(-1)).toMatchObject({ step: 40, forwardPasses: 80 });
  });

  it('a resumed ZO run ends bit-identical to an uninterrupted one', async () => {
    for (const method of ['mezo', 'zo-adam', 'lozo-m']) {
      const whole = await runExperiment(config({ method, lr: 0.01 }));
      const interrupted = config({ method, lr: 0.01 });
      await expect(
        runExperiment(interrupted, {
          afterStep: (step) => {
            if (step === 17) throw new SimulatedKill(`killed after step ${step}`);
          },
        }),
      ).rejects.toThrow(SimulatedKill);
      // the last checkpoint is step 14; steps 15–17 were logged and must be dropped and redone
      expect((readCheckpoint(join(interrupted.out!, 'checkpoint.safetensors')).state as { step: number }).step).toBe(14);
      const resumed = await runExperiment(interrupted, { resume: true });
      expect(numbers(resumed.summary)).toEqual(numbers(whole.summary));
      expect(await paramsOf(join(resumed.dir, 'model.safetensors'))).toEqual(await paramsOf(join(whole.dir, 'model.safetensors')));
      expect(readFileSync(join(resumed.dir, 'zo-log.jsonl'), 'utf8')).toBe(readFileSync(join(whole.dir, 'zo-log.jsonl'), 'utf8'));
      expect(withoutWall(resumed.dir)).toEqual(withoutWall(whole.dir));
    }
  });

  it('refuses to resume a ZO run whose log was written with another noise format', async () => {
    const interrupted = config({ method: 'mezo', lr: 0.01 });
    await expect(runExperiment(interrupted, { afterStep: (step) => { if (step === 8) throw new SimulatedKill('killed'); } })).rejects.toThrow(SimulatedKill);
    const logFile = join(interrupted.out!, 'zo-log.jsonl');
    const [first, ...rest] = readFileSync(logFile, 'utf8').split('\n');
    const line = JSON.parse(first!);
    const { noise: _noise, ...oldHeader } = line.header;
    writeFileSync(logFile, [JSON.stringify({ ...line, header: { ...oldHeader, version: 1 } }), ...rest].join('\n'));
    await expect(runExperiment(interrupted, { resume: true })).rejects.toThrow(/zo-log\.jsonl:1: the log was written with noise format 1/);
  });

  it('a resumed backprop run ends bit-identical too: optimizer moments and GaLore projectors are checkpointed', async () => {
    const cases: Partial<RunConfigInput>[] = [
      { method: 'adamw', lr: 0.01 },
      // updateGap 5 puts projector refreshes on both sides of the step-14 checkpoint
      { method: 'galore-adamw', lr: 0.01, options: { galore: { rank: 1, updateGap: 5 } } },
      { method: 'adamw8bit', lr: 0.01 },
    ];
    for (const overrides of cases) {
      const whole = await runExperiment(config(overrides));
      const interrupted = config(overrides);
      await expect(
        runExperiment(interrupted, {
          afterStep: (step) => {
            if (step === 17) throw new SimulatedKill(`killed after step ${step}`);
          },
        }),
      ).rejects.toThrow(SimulatedKill);
      const resumed = await runExperiment(interrupted, { resume: true });
      expect(numbers(resumed.summary)).toEqual(numbers(whole.summary));
      expect(await paramsOf(join(resumed.dir, 'model.safetensors'))).toEqual(await paramsOf(join(whole.dir, 'model.safetensors')));
      expect(withoutWall(resumed.dir)).toEqual(withoutWall(whole.dir));
    }
  });

  it('options.perLayer applies the same updates as a normal step (bit-identical weights)', async () => {
    for (const method of ['adamw', 'galore-adamw']) {
      const normal = await runExperiment(config({ method, lr: 0.01 }));
      const layered = await runExperiment(config({ method, lr: 0.01, options: { perLayer: true } }));
      expect(await paramsOf(join(layered.dir, 'model.safetensors'))).toEqual(await paramsOf(join(normal.dir, 'model.safetensors')));
      expect(layered.summary.trainLoss).toEqual(normal.summary.trainLoss);
    }
    await expect(runExperiment(config({ method: 'adamw', options: { perLayer: 'yes' } }))).rejects.toThrow(/options.perLayer must be true or false/);
  });

  it('the ZO log and start weights replay to the final weights bit for bit', async () => {
    const { dir } = await runExperiment(config({ method: 'mezo', lr: 0.01 }));
    const start = await readSafetensors(join(dir, 'start.safetensors'));
    const engine = new Engine(new CpuBackend());
    const store = new ParamStore(engine);
    for (const [name, entry] of start.tensors) store.add(name, 'head', entry.shape, entry.data);
    const log = parseZoLog(readFileSync(join(dir, 'zo-log.jsonl'), 'utf8'));
    expect((await replayZo(store, log)).steps).toBe(40);
    expect(await store.snapshot()).toEqual(await paramsOf(join(dir, 'model.safetensors')));
  });

  it('stops a diverging run cleanly: status diverged at step k, last good checkpoint kept', async () => {
    const { dir, summary } = await runExperiment(config({ method: 'fixture-nan', options: { nanAt: 23 } }));
    expect(summary).toMatchObject({ status: 'diverged', divergedAtStep: 23, steps: 23, stoppedBy: 'divergence', eval: null });
    expect((readCheckpoint(join(dir, 'checkpoint.safetensors')).state as { step: number }).step).toBe(21);
    expect(summary.files).not.toContain('model.safetensors');
  });

  it('stops at a forward-pass budget', async () => {
    const { summary } = await runExperiment(config({ method: 'mezo', steps: 1000, budget: { forwardPasses: 30 } }));
    expect(summary).toMatchObject({ steps: 15, forwardPasses: 30, stoppedBy: 'forwardPasses', status: 'completed' });
  });

  it('never writes into a non-empty --out unless --force, and --force only clears zolo folders', async () => {
    const used = config({ method: 'zero-shot' });
    await runExperiment(used);
    const before = readFileSync(join(used.out!, 'summary.json'), 'utf8');
    await expect(runExperiment(used)).rejects.toThrow(/already exists and is not empty; pass --force/);
    expect(readFileSync(join(used.out!, 'summary.json'), 'utf8')).toBe(before);
    await expect(runExperiment({ ...used, force: true })).resolves.toBeDefined();

    const foreign = freshDir();
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'thesis.tex'), 'precious');
    await expect(runExperiment({ ...config({ method: 'zero-shot' }), out: foreign, force: true })).rejects.toThrow(ConfigError);
    expect(readFileSync(join(foreign, 'thesis.tex'), 'utf8')).toBe('precious');
  });

  it('a fresh run that cannot start (bad model for the task) leaves no folder behind', async () => {
    const bad = config({ method: 'mezo', model: 'tiny' });
    await expect(runExperiment(bad)).rejects.toThrow('model must be "linear" for task synthetic-blobs');
    expect(existsSync(bad.out!)).toBe(false);
  });

  it('zero-shot trains nothing and reports inference memory at the training batch size', async () => {
    const { summary } = await runExperiment(config({ method: 'zero-shot' }));
    expect(summary).toMatchObject({ steps: 0, forwardPasses: 0, trainableParams: 0 });
    expect(summary.trainLoss.first).toBeCloseTo(Math.log(2), 6); // zero-initialised logits
    expect(summary.memory.peakBytes.gradient).toBe(0);
  });
});
