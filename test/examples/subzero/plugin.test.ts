/**
 * The SubZero plug-in run by name, as its README says: `zolo methods --plugin`, `zolo run --plugin
 * … --method subzero`, `zolo replay` of that run (bit for bit on cpu, with the plug-in named by the
 * run's config.json) and `zolo suite` with `base.plugins`. Each command runs in-process, where the
 * plug-in's `import … from 'zolo'` is the source under test (vitest.config.ts); the installed-package
 * route runs in test/package/package.test.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { register as registerMethods } from '../../../src/cli/methods.ts';
import { register as registerReplay } from '../../../src/cli/replay.ts';
import { register as registerRun } from '../../../src/cli/run.ts';
import { register as registerSuite } from '../../../src/cli/suite.ts';
import { captureCommand } from '../../cli/captureCommand.ts';

const PLUGIN = resolve('examples/subzero/index.js');
const root = mkdtempSync(join(tmpdir(), 'zolo-subzero-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// the linear model's weight is [2, 16], so the rank must be ≤ 2; T = 3 redraws the bases twice in 8 steps
const blobRun = ['--task', 'synthetic-blobs', '--model', 'linear', '--backend', 'cpu', '--set', 'options.rank=2', '--set', 'options.interval=3'];

describe('the SubZero plug-in from the command line', () => {
  it('zolo methods --plugin lists subzero with its parts and options', async () => {
    const listed = JSON.parse(await captureCommand(registerMethods, ['methods', '--json', '--plugin', 'examples/subzero/index.js'])) as {
      name: string; parts: Record<string, string>; options: { name: string; value: number }[];
    }[];
    const subzero = listed.find((method) => method.name === 'subzero')!;
    expect(subzero.parts).toEqual({ perturbation: 'subzero', schedule: 'fixed', difference: 'central', optimizer: 'sgd' });
    expect(Object.fromEntries(subzero.options.map((option) => [option.name, option.value]))).toMatchObject({ rank: 24, interval: 1000 });
  });

  it('zolo run --method subzero trains, and zolo replay rebuilds its weights bit for bit', async () => {
    const out = join(root, 'run');
    await captureCommand(registerRun, ['run', '--plugin', 'examples/subzero/index.js', '--method', 'subzero', ...blobRun, '--steps', '8', '--lr', '0.05', '--out', out]);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ method: 'subzero', family: 'zo', steps: 8 });
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).plugins).toEqual([relative(out, PLUGIN)]);
    const header = JSON.parse(readFileSync(join(out, 'zo-log.jsonl'), 'utf8').split('\n')[0]!).header;
    expect(header).toMatchObject({ method: 'subzero', parts: { perturbation: 'subzero' }, options: { rank: 2, interval: 3 } });
    const replayed = JSON.parse(await captureCommand(registerReplay, ['replay', out, '--json']));
    expect(replayed).toMatchObject({ method: 'subzero', steps: 8, check: { bitIdentical: true } });
  });

  it("zolo suite runs subzero named by one run entry's plugins, relative to the suite file, beside a built-in", async () => {
    const dir = join(root, 'suite');
    mkdirSync(dir, { recursive: true });
    const suite = {
      name: 'subzero-suite',
      base: { task: 'synthetic-blobs', model: 'linear', backend: 'cpu', steps: 4, checkpointEvery: 0, lr: 0.05 },
      seeds: [0],
      runs: [
        { label: 'MeZO', method: 'mezo' },
        { label: 'SubZero', method: 'subzero', plugins: [relative(dir, PLUGIN)], options: { rank: 2 } },
      ],
    };
    writeFileSync(join(dir, 'suite.json'), JSON.stringify(suite));
    const out = join(root, 'suite-out');
    expect(await captureCommand(registerSuite, ['suite', join(dir, 'suite.json'), '--out', out])).toContain('2 runs run');
    const runs = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).runs as { config: { method: string; plugins: string[] } }[];
    expect(runs.map((run) => [run.config.method, run.config.plugins])).toEqual([['mezo', []], ['subzero', [relative(out, PLUGIN)]]]);
    const saved = JSON.parse(readFileSync(join(out, 'suite.json'), 'utf8')) as { runs: { plugins?: string[] }[] };
    expect(saved.runs[1]!.plugins).toEqual([relative(out, PLUGIN)]);
    // a resume reads the saved suite back, anchored to its folder, imports the plug-in and finds both runs finished
    await captureCommand(registerSuite, ['suite', join(dir, 'suite.json'), '--out', out, '--resume']);
    expect(JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')).runs).toHaveLength(2);
  });
});
