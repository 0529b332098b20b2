/**
 * `zolo replay` end to end on files laid out as `zolo run` writes them: DIR/zo-log.jsonl (header in
 * the step-0 line), DIR/start.safetensors, DIR/checkpoint.safetensors (param/<name>, run step in the
 * metadata). The command must rebuild the final parameters bit for bit and say so.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { register } from '../../src/cli/replay.ts';
import { readSafetensors, writeSafetensors } from '../../src/nn/safetensors.ts';
import type { ParamStore } from '../../src/tensor/index.ts';
import { createEstimator, zoLogHeader, zoLogStep } from '../../src/zo/index.ts';
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

async function zolo(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  register(program);
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
  try {
    await program.parseAsync(['node', 'zolo', ...args]);
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n');
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('zolo replay DIR', () => {
  it('rebuilds the final parameters from start.safetensors and zo-log.jsonl, bit for bit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zolo-replay-'));
    const params = store();
    await writeParams(join(dir, 'start.safetensors'), params, '');
    const problem = diagonalQuadratic(fixtureValues(16, 93).map((x) => 2 + x), fixtureValues(16, 94));
    const estimator = createEstimator('lozo-m', { lr: 0.01, rank: 2, interval: 3 });
    let state = estimator.init(params, { seed: 6 });
    const lines: string[] = [];
    for (let t = 0; t < 8; t++) {
      const { state: next, record } = await estimator.step(state, { loss: problem.loss });
      const line = zoLogStep(record);
      if (t === 0) line.header = zoLogHeader(estimator, state, { start: 'start.safetensors' });
      lines.push(JSON.stringify(line));
      state = next;
    }
    writeFileSync(join(dir, 'zo-log.jsonl'), `${lines.join('\n')}\n`);
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
