/**
 * `zolo run --plugin FILE`, a config file's `plugins` (relative to the file) and `zolo suite` with
 * `base.plugins` (relative to the suite file): the modules are imported before the config is
 * checked, so the preset they register runs by name. Each case uses its own fixture name so the
 * module cache (one import per path) cannot hide a case that forgot to import.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { register as registerConfig } from '../../src/cli/config.ts';
import { register as registerRun } from '../../src/cli/run.ts';
import { register as registerSuite } from '../../src/cli/suite.ts';
import { registeredMethods } from '../../src/experiment/method.ts';
import { readRunConfig } from '../../src/experiment/runner.ts';
import { captureCommand } from './captureCommand.ts';

const FIXTURE = resolve('test/fixtures/plugins/rademacherForward.ts');
const root = mkdtempSync(join(tmpdir(), 'zolo-plugin-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const blobFlags = ['--task', 'synthetic-blobs', '--model', 'linear', '--backend', 'cpu', '--checkpoint-every', '0'];

describe('plug-ins from the command line', () => {
  it('zolo run --plugin imports the module first and runs its preset', async () => {
    expect(registeredMethods()).not.toContain('rademacher-forward');
    const out = join(root, 'run');
    const printed = await captureCommand(registerRun, ['run', '--plugin', 'test/fixtures/plugins/rademacherForward.ts', '--method', 'rademacher-forward', ...blobFlags, '--steps', '4', '--out', out]);
    expect(printed).toContain(out);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ method: 'rademacher-forward', steps: 4 });
    // the saved config names the module relative to the run folder: no machine path, and a resume
    // from any working directory finds it
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).plugins).toEqual([relative(out, FIXTURE)]);
    expect(readRunConfig(out).plugins).toEqual([FIXTURE]);
  });

  it('a missing --plugin module is refused before any folder is made, naming the path', async () => {
    const out = join(root, 'never');
    await expect(captureCommand(registerRun, ['run', '--plugin', './no/such/plugin.js', '--method', 'mezo', ...blobFlags, '--out', out])).rejects.toThrow(
      /plugins: plug-in module .*no\/such\/plugin\.js does not exist/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it("a config file's plugins resolve relative to the file", async () => {
    const dir = join(root, 'cfg');
    mkdirSync(join(dir, 'plugins'), { recursive: true });
    // a copy at a path no other case imports; its relative import of src is rewritten to stay valid
    const source = readFileSync(FIXTURE, 'utf8').replace("'../../../src/zo/index.ts'", JSON.stringify(resolve('src/zo/index.ts')));
    writeFileSync(join(dir, 'plugins', 'forward.ts'), source.replace("name: 'rademacher-forward'", "name: 'rademacher-forward-cfg'"));
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ method: 'rademacher-forward-cfg', plugins: ['plugins/forward.ts'], task: 'synthetic-blobs', model: 'linear', backend: 'cpu' }));
    const printed = JSON.parse(await captureCommand(registerConfig, ['config', '--config', join(dir, 'run.json')]));
    expect(printed.method).toBe('rademacher-forward-cfg');
    expect(printed.lr).toBe(0.03);
    expect(printed.plugins).toEqual([join(dir, 'plugins', 'forward.ts')]);
  });

  it("zolo suite honours base.plugins relative to the suite file", async () => {
    const dir = join(root, 'suite');
    mkdirSync(dir, { recursive: true });
    const source = readFileSync(FIXTURE, 'utf8').replace("'../../../src/zo/index.ts'", JSON.stringify(resolve('src/zo/index.ts')));
    writeFileSync(join(dir, 'forward.ts'), source.replace("name: 'rademacher-forward'", "name: 'rademacher-forward-suite'"));
    const suite = {
      name: 'plugin-suite',
      base: { task: 'synthetic-blobs', model: 'linear', backend: 'cpu', steps: 3, checkpointEvery: 0, plugins: ['forward.ts'] },
      seeds: [0],
      runs: [{ label: 'plug-in', method: 'rademacher-forward-suite' }],
    };
    writeFileSync(join(dir, 'suite.json'), JSON.stringify(suite));
    const out = join(root, 'suite-out');
    const printed = await captureCommand(registerSuite, ['suite', join(dir, 'suite.json'), '--out', out]);
    expect(printed).toContain('1 runs run');
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    expect(JSON.stringify(results)).toContain('rademacher-forward-suite');

    writeFileSync(join(dir, 'missing.json'), JSON.stringify({ ...suite, base: { ...suite.base, plugins: ['gone.js'] } }));
    await expect(captureCommand(registerSuite, ['suite', join(dir, 'missing.json'), '--check'])).rejects.toThrow(/base\.plugins: plug-in module .*suite\/gone\.js does not exist/);
  });
});
