/**
 * Estimators and backprop optimizers registered from outside: a preset or an update rule a plug-in
 * module registers after import is a method for runExperiment by name (config `plugins`), `zolo
 * memory --plugin` and `zolo check --plugin` see it, every registry refuses a name it already holds,
 * and a plug-in's `import … from 'zolo'` reaches the copy of zolo that loads it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { captureCommand } from '../cli/captureCommand.ts';
import { register as registerCheck } from '../../src/cli/check.ts';
import { register as registerMemory } from '../../src/cli/memory.ts';
import '../../src/experiment/builtins.ts';
import { parseRunConfig } from '../../src/experiment/config.ts';
import { methodAdapter, registeredMethods, registerMethod } from '../../src/experiment/method.ts';
import { resolveRunConfig, resolveRunConfigWithPlugins } from '../../src/experiment/resolve.ts';
import { readRunConfig, runExperiment } from '../../src/experiment/runner.ts';
import { registerWorkload } from '../../src/experiment/workload.ts';
import { ConfigError } from '../../src/errors.ts';
import { getPart, getPreset, registerPart, registerPreset } from '../../src/zo/index.ts';
import { runningZoloEntries } from '../../src/experiment/plugins.ts';

const PLUGIN = 'test/fixtures/plugins/rademacherForward.ts';
const root = mkdtempSync(join(tmpdir(), 'zolo-plugins-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const blobs = { task: 'synthetic-blobs', model: 'linear', backend: 'cpu' };

describe('plug-in presets', () => {
  it('a preset not yet registered is not a method', () => {
    expect(registeredMethods()).not.toContain('rademacher-forward');
    expect(() => resolveRunConfig({ base: { ...blobs, method: 'rademacher-forward' } })).toThrow(/method must be one of .*got "rademacher-forward"/);
  });

  it('a missing plug-in module is a ConfigError naming the path', async () => {
    const missing = resolveRunConfigWithPlugins({ base: { ...blobs, method: 'mezo' }, plugins: ['test/fixtures/plugins/absent.js'] });
    await expect(missing).rejects.toThrow(ConfigError);
    await expect(missing).rejects.toThrow(/plugins: plug-in module .*test\/fixtures\/plugins\/absent\.js does not exist/);
  });

  it('runExperiment imports config.plugins and runs the preset by name with its parts', async () => {
    const out = join(root, 'run');
    const config = parseRunConfig({ ...blobs, method: 'rademacher-forward', plugins: [PLUGIN], steps: 6, checkpointEvery: 0, out });
    const { summary } = await runExperiment(config);
    expect(summary.method).toBe('rademacher-forward');
    expect(summary.family).toBe('zo');
    expect(summary.steps).toBe(6);
    expect(registeredMethods()).toContain('rademacher-forward');
    // the preset's default lr reaches the method adapter, like a built-in preset's
    expect(methodAdapter('rademacher-forward').defaultLr).toBe(0.03);
    const header = JSON.parse(readFileSync(join(out, 'zo-log.jsonl'), 'utf8').split('\n')[0]!).header;
    expect(header.method).toBe('rademacher-forward');
    // saved relative to the run folder (no machine path), read back absolute
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).plugins).toEqual([relative(out, resolve(PLUGIN))]);
    expect(readRunConfig(out).plugins).toEqual([resolve(PLUGIN)]);
    expect(header.parts).toMatchObject({ perturbation: 'rademacher', difference: 'oneSided' });
  });

  it('a preset that trains adapters carries them; one that does not refuses options.adapters', () => {
    expect(getPreset('mezo-lora').adapters?.kind).toBe('lora');
    expect(getPreset('adazeta').adapters?.kind).toBe('tt');
    expect(methodAdapter('mezo-lora').choosesTrainable).toBe(true);
    expect(() => methodAdapter('rademacher-forward').checkOptions({ adapters: { rank: 2 } })).toThrow(/options\.adapters is only for .*mezo-lora.*, not rademacher-forward/);
  });
});

describe('plug-in backprop optimizers', () => {
  const RULE = 'test/fixtures/plugins/signDescent.ts';

  it('runExperiment imports the module and trains with the rule by name, as a backprop method', async () => {
    expect(registeredMethods()).not.toContain('sign-descent');
    const config = parseRunConfig({ ...blobs, method: 'sign-descent', plugins: [RULE], steps: 4, checkpointEvery: 0, out: join(root, 'sign') });
    const { summary } = await runExperiment(config);
    expect(summary).toMatchObject({ method: 'sign-descent', family: 'backprop', steps: 4, status: 'completed' });
    expect(methodAdapter('sign-descent').defaultLr).toBe(0.02);
  });
});

describe('--plugin on zolo memory and zolo check', () => {
  const zolo = (...args: string[]): Promise<string> => captureCommand((program) => {
    registerMemory(program);
    registerCheck(program);
  }, args);

  it('zolo memory --plugin estimates a plug-in\'s method', async () => {
    const output = await zolo('memory', '--plugin', PLUGIN, '--model', 'tiny', '--method', 'rademacher-forward', 'adamw');
    expect(output).toMatch(/rademacher-forward\s+3\.54 MiB/);
  });

  it('zolo check --plugin checks a plug-in\'s estimator', async () => {
    const out = join(root, 'check');
    await zolo('check', '--plugin', PLUGIN, '--model', 'linear', '--task', 'synthetic-blobs', '--method', 'rademacher-forward', '--backend', 'cpu',
      '--draws', '8', '--probes', '2', '--lanczos', '2', '--steps', '2', '--out', out);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    expect(report).toContain('rademacher-forward');
    expect(report).toContain(`--plugin ${PLUGIN}`);
  }, 120_000);
});

describe('registries refuse a name they already hold', () => {
  it('presets, including through a plug-in module', async () => {
    expect(() => registerPreset(getPreset('mezo'))).toThrow(/an estimator preset named "mezo" is already registered/);
    await expect(resolveRunConfigWithPlugins({ base: { ...blobs, method: 'mezo' }, plugins: ['test/fixtures/plugins/duplicateMezo.ts'] })).rejects.toThrow(
      /an estimator preset named "mezo" is already registered/,
    );
  });

  it('parts, methods and workloads', () => {
    expect(() => registerPart(getPart('perturbation', 'gaussian'))).toThrow(/a perturbation named "gaussian" is already registered/);
    expect(() => registerMethod(methodAdapter('zero-shot'))).toThrow(ConfigError);
    expect(() => registerMethod(methodAdapter('zero-shot'))).toThrow(/a method named "zero-shot" is already registered/);
    // a ZO preset is a method already, so no adapter may take its name
    expect(() => registerMethod(methodAdapter('mezo'))).toThrow(/"mezo" cannot be registered: an estimator preset or backprop optimizer of that name/);
    expect(() => registerMethod(methodAdapter('adamw'))).toThrow(/"adamw" cannot be registered: an estimator preset or backprop optimizer of that name/);
    expect(() => registerWorkload('synthetic-blobs', () => Promise.reject(new Error('never built')))).toThrow(/a task named "synthetic-blobs" is already registered/);
  });
});

describe("a plug-in's `import … from 'zolo'`", () => {
  it('is pinned to the running copy: src/*.ts from the sources, the exports\' dist/*.js from a build', () => {
    const src = runningZoloEntries(pathToFileURL(resolve('src/experiment/plugins.ts')).href);
    expect(src).toMatchObject({
      zolo: pathToFileURL(resolve('src/index.ts')).href,
      'zolo/assumptions/arbitraries': pathToFileURL(resolve('src/assumptions/arbitraries.ts')).href,
      'zolo/package.json': pathToFileURL(resolve('package.json')).href,
    });
    const dist = runningZoloEntries(pathToFileURL(resolve('dist/experiment/plugins.js')).href);
    expect(dist).toMatchObject({ zolo: pathToFileURL(resolve('dist/index.js')).href, 'zolo/assumptions': pathToFileURL(resolve('dist/assumptions/index.js')).href });
  });

  it('registers into the zolo binary that imports it, from a folder with no zolo installed (a checkout, no build)', () => {
    const plugin = join(root, 'outside.mjs');
    writeFileSync(plugin, "import { getPreset, registerPreset } from 'zolo';\nregisterPreset({ ...getPreset('mezo'), name: 'mezo-from-outside' });\n");
    const listed = execFileSync(process.execPath, [resolve('bin/zolo.js'), 'methods', '--plugin', plugin], { cwd: root, encoding: 'utf8' });
    expect(listed).toMatch(/^mezo-from-outside — /m);
  }, 300_000);
});
