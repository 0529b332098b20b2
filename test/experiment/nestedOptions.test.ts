/**
 * Nested option objects are strict everywhere a run config is read: `zolo config`, `zolo run` and
 * suites refuse the same misspelt keys (naming the path and the allowed keys) and accept the same
 * configs; `--set a.b.c=value` reaches into nested objects.
 */
import { Command } from 'commander';
import { describe, expect, it, vi } from 'vitest';
import '../../src/experiment/builtins.ts';
import { register as registerConfig } from '../../src/cli/config.ts';
import { register as registerRun } from '../../src/cli/run.ts';
import { resolveRunConfig } from '../../src/experiment/resolve.ts';
import { knownNames } from '../../src/experiment/suite.ts';
import { parseSuite, planSuite } from '../../src/experiment/suiteConfig.ts';

async function zolo(command: 'run' | 'config', ...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerRun(program);
  registerConfig(program);
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
  try {
    await program.parseAsync(['node', 'zolo', command, '--backend', 'cpu', ...args]);
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n');
}

/** [method, --set assignment, the message it must produce] */
const TYPOS: [string, string, string][] = [
  ['lora', 'options.lora={"rnk":2}', 'unknown key "options.lora.rnk"; allowed in options.lora: targets, rank, alpha'],
  ['galore-adamw', 'options.galore={"rank":4,"updateGapp":5}', 'unknown key "options.galore.updateGapp"; allowed in options.galore: rank, updateGap,'],
  ['galore-adamw', 'options.galore={"adaptive":{"treshold":0.5}}', 'unknown key "options.galore.adaptive.treshold"; allowed in options.galore.adaptive: threshold, checkEvery, maxGap'],
  ['relora', 'options.relora={"resetEvry":5}', 'unknown key "options.relora.resetEvry"; allowed in options.relora: resetEvery, rewarmupSteps'],
  ['adafactor', 'options.adafactor={"beta":0.9}', 'unknown key "options.adafactor.beta"'],
  ['adamw8bit', 'options.eightBit={"blocksize":64}', 'unknown key "options.eightBit.blocksize"; allowed in options.eightBit: blockSize, minQuantizedSize'],
  ['mezo-lora', 'options.adapters={"rnk":4}', 'unknown key "options.adapters.rnk"; allowed in options.adapters: targets, rank, alpha'],
  ['adazeta', 'options.adapters={"bottelneck":4}', 'unknown key "options.adapters.bottelneck"; allowed in options.adapters: targets, bottleneck, rank, scale, identityInit, hiddenModes, bottleneckModes'],
  ['mezo', 'taskOptions.shotz=3', 'unknown key "taskOptions.shotz"; allowed in taskOptions: shots, dataSeed, seq'],
];

describe('strict nested options', () => {
  it('zolo config and zolo run refuse the same typos with the same message, before any work', async () => {
    for (const [method, assignment, message] of TYPOS) {
      const args = ['--method', method, '--out', '/nonexistent/never-made', '--set', assignment];
      await expect(zolo('config', ...args), `config ${assignment}`).rejects.toThrow(message);
      await expect(zolo('run', ...args), `run ${assignment}`).rejects.toThrow(message);
    }
  });

  it('accepts the correctly spelt keys', () => {
    expect(resolveRunConfig({ flags: { method: 'lora', backend: 'cpu' }, sets: ['options.lora={"rank":2,"alpha":4}'] }).options).toEqual({ lora: { rank: 2, alpha: 4 } });
    expect(resolveRunConfig({ flags: { method: 'galore-adamw', backend: 'cpu' }, sets: ['options.galore={"rank":4,"updateGap":5,"scale":0.5}'] }).options.galore).toMatchObject({ updateGap: 5 });
    expect(resolveRunConfig({ flags: { method: 'adazeta', backend: 'cpu' }, sets: ['options.adapters={"rank":3}'] }).options.adapters).toEqual({ rank: 3 });
  });

  it('--set a.b.c=value sets nested paths, typed as JSON below pass-through objects', () => {
    const config = resolveRunConfig({ flags: { method: 'galore-adamw', backend: 'cpu' }, sets: ['options.galore.rank=4', 'options.galore.adaptive.maxGap=50', 'options.galore.type=left'] });
    expect(config.options).toEqual({ galore: { rank: 4, adaptive: { maxGap: 50 }, type: 'left' } });
    expect(() => resolveRunConfig({ flags: { method: 'galore-adamw', backend: 'cpu' }, sets: ['options.galore.rnk=4'] })).toThrow('unknown key "options.galore.rnk"');
  });

  it('a suite blames an unknown key in base on base, not on the first run', () => {
    const suite = (base: Record<string, unknown>) => ({ name: 's', base: { backend: 'cpu', ...base }, runs: [{ label: 'A', method: 'mezo' }] });
    expect(() => parseSuite(suite({ stpes: 3 }), 'my.json')).toThrow('unknown key "my.json.base.stpes"');
    expect(() => parseSuite(suite({ budget: { forwardPasess: 3 } }), 'my.json')).toThrow('unknown key "my.json.base.budget.forwardPasess"');
    expect(() => planSuite(parseSuite(suite({ taskOptions: { shotz: 3 } })), '/x', knownNames())).toThrow('base: unknown key "taskOptions.shotz"');
    expect(() => planSuite(parseSuite({ ...suite({}), runs: [{ label: 'L', method: 'lora', options: { lora: { rnk: 2 } } }] }), '/x', knownNames())).toThrow('runs[0] (L): unknown key "options.lora.rnk"');
  });
});
