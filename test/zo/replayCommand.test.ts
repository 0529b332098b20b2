/**
 * `zolo replay` end to end on files laid out as `zolo run` writes them: DIR/zo-log.jsonl (header in
 * the step-0 line), DIR/start.safetensors, DIR/checkpoint.safetensors (param/<name>, run step in the
 * metadata). The command must rebuild the final parameters bit for bit and say so.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { captureCommand } from '../cli/captureCommand.ts';
import { register } from '../../src/cli/replay.ts';
import { readSafetensors, writeSafetensors } from '../../src/nn/safetensors.ts';
import type { ParamStore } from '../../src/tensor/index.ts';
import { createEstimator, zoLogHeader, zoLogStep, type Estimator } from '../../src/zo/index.ts';
import { diagonalQuadratic, fixtureValues, makeStore } from './quadratic.ts';

function store(): ParamStore {
  return makeStore([
    { name: 'w', shape: [3, 4], values: fixtureValues(12, 91) },
    { name: 'b', shape: [4], values: fixtureValues(4, 92) },
  ]);
}

async function writeParams(file: string, params: ParamStore, prefix: string, metadata: Record<string, string> = {}) {
  const values = await params.snapshot();
  await writeSafetensors(file, params.all().map((p) => [`${prefix}${p.name}`, { shape: [...p.tensor.shape], data: values.get(p.name)! }]), metadata);
}

const zolo = (...args: string[]): Promise<string> => captureCommand(register, [...args]);

afterEach(() => {
  process.exitCode = undefined;
});

/** Runs `steps` estimator steps on `params` and writes their log to DIR/zo-log.jsonl (header on step 0), as a run would. */
async function writeZoLog(dir: string, estimator: Estimator, params: ParamStore, loss: (store: ParamStore) => Promise<number>, seed: number, steps: number): Promise<void> {
  let state = estimator.init(params, { seed });
  const lines: string[] = [];
  for (let t = 0; t < steps; t++) {
    const { state: next, record } = await estimator.step(state, { loss });
    const line = zoLogStep(record);
    if (t === 0) line.header = zoLogHeader(estimator, state, { start: 'start.safetensors' });
    lines.push(JSON.stringify(line));
    state = next;
  }
  writeFileSync(join(dir, 'zo-log.jsonl'), `${lines.join('\n')}\n`);
}

describe('zolo replay DIR', () => {
  it('rebuilds the final parameters from start.safetensors and zo-log.jsonl, bit for bit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zolo-replay-'));
    const params = store();
    await writeParams(join(dir, 'start.safetensors'), params, '');
    const problem = diagonalQuadratic(fixtureValues(16, 93).map((x) => 2 + x), fixtureValues(16, 94));
    const estimator = createEstimator('lozo-m', { lr: 0.01, rank: 2, interval: 3 });
    await writeZoLog(dir, estimator, params, problem.loss, 6, 8);
    await writeParams(join(dir, 'checkpoint.safetensors'), params, 'param/', { state: JSON.stringify({ step: 8 }) });

    const output = await zolo('replay', dir);
    expect(output).toMatch(/replayed 8 lozo-m steps over 16 trainable values/);
    expect(output).toMatch(/identical bit for bit/);
    const replayed = await readSafetensors(join(dir, 'replayed.safetensors'));
    expect(Buffer.compare(Buffer.from(replayed.tensors.get('w')!.data.buffer), Buffer.from((await params.tensor('w').read()).buffer))).toBe(0);

    const report = JSON.parse(await zolo('replay', dir, '--steps', '5', '--force', '--json'));
    expect(report.steps).toBe(5);
    expect(report.check.skipped).toMatch(/checkpoint is at step 8, replayed 5 steps/);
    await expect(zolo('replay', dir)).rejects.toThrow(/exists; pass --force/);
    expect(readFileSync(join(dir, 'zo-log.jsonl'), 'utf8').split('\n')[0]).toContain('"header"');
  });
});

describe('zolo replay on the run\'s backend or another', () => {
  /** A run folder whose config.json records `backend` and whose checkpoint is the trained parameters plus `nudge`. */
  async function runFolder(backend: string, nudge: number): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'zolo-replay-backend-'));
    const params = store();
    await writeParams(join(dir, 'start.safetensors'), params, '');
    const problem = diagonalQuadratic(fixtureValues(16, 95).map((x) => 2 + x), fixtureValues(16, 96));
    const estimator = createEstimator('mezo', { lr: 0.01 });
    await writeZoLog(dir, estimator, params, problem.loss, 3, 6);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ method: 'mezo', backend }));
    const values = await params.snapshot();
    const w = values.get('w')!;
    w[0] = w[0]! + nudge;
    await writeSafetensors(join(dir, 'checkpoint.safetensors'), params.all().map((p) => [`param/${p.name}`, { shape: [...p.tensor.shape], data: values.get(p.name)! }]), { state: JSON.stringify({ step: 6 }) });
    return dir;
  }

  it('replays on the backend the run recorded and says so', async () => {
    const dir = await runFolder('cpu', 0);
    const report = JSON.parse(await zolo('replay', dir, '--json'));
    expect(report).toMatchObject({ backend: 'cpu', runBackend: 'cpu', backendSource: "the run's" });
    expect(report.check.bitIdentical).toBe(true);
    // a run recorded on another backend is replayed there, not on cpu
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ method: 'mezo', backend: 'wasm' }));
    expect(JSON.parse(await zolo('replay', dir, '--json', '--force')).backend).toBe('wasm');
  });

  it('--backend other than the run\'s reports a rounding-sized difference instead of failing', async () => {
    // one ulp at |w| ≤ 1 is ≤ 2⁻²³, far inside the bound 4u·P·max|θ| with P = 6 steps × 4 passes
    const dir = await runFolder('wasm', 2 ** -23);
    const report = JSON.parse(await zolo('replay', dir, '--backend', 'cpu', '--json'));
    expect(report.check).toMatchObject({ bitIdentical: false, withinRounding: true, passes: 24 });
    expect(report.check.maxAbsDiff).toBeGreaterThan(0);
    expect(report.check.maxRelDiff).toBeGreaterThan(0);
    expect(process.exitCode).toBeUndefined();
    // 1e-3 is ~10⁴ ulps per pass: not rounding, so it fails
    const far = await runFolder('wasm', 1e-3);
    expect(JSON.parse(await zolo('replay', far, '--backend', 'cpu', '--json')).check.withinRounding).toBe(false);
    expect(process.exitCode).toBe(4);
    // on the run's own backend nothing but bit for bit passes
    process.exitCode = undefined;
    const same = await runFolder('cpu', 2 ** -23);
    await zolo('replay', same);
    expect(process.exitCode).toBe(4);
  });
});
