import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCheckFlags, runCheckCommand, type CheckFlags } from '../../src/cli/check.ts';
import { REPORT_SECTIONS } from '../../src/experiment/check/report.ts';
import type { CheckResults } from '../../src/experiment/check/runCheck.ts';
import { ConfigError } from '../../src/errors.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-check-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The synthetic task keeps the whole check to well under a second (d = 34). */
const quick = (out: string, extra: Partial<CheckFlags> = {}): CheckFlags => ({
  model: 'linear', task: 'synthetic-blobs', method: 'mezo,lozo', out, draws: '16', probes: '4', lanczos: '6', steps: '4', backend: 'cpu', ...extra,
});

describe('zolo check', () => {
  it('writes check.json, report.md with every section, and the SVG plots', async () => {
    const out = join(root, 'report');
    const lines: string[] = [];
    const results = await runCheckCommand(quick(out), (line) => lines.push(line));
    expect(lines.some((line) => line.includes('estimator lozo'))).toBe(true);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    for (const section of REPORT_SECTIONS) expect(report).toContain(`## ${section}`);
    for (const method of ['mezo', 'lozo']) expect(report).toContain(`**${method} (dimension factor):**`);
    const saved = JSON.parse(readFileSync(join(out, 'check.json'), 'utf8')) as CheckResults;
    expect(saved.dim).toBe(34);
    expect(saved.estimators.map((e) => e.method)).toEqual(['mezo', 'lozo']);
    expect(saved.lowRank.layers.map((l) => l.name)).toEqual(['head.weight']);
    expect(saved.hessian.spectrum.ritzValues.length).toBeGreaterThan(0);
    expect(results.estimators[0]!.quality.draws).toBe(16);
    // Eckart–Young: no rank-r projector keeps more than the best rank-r energy; overlaps are mean squared cosines
    for (const drift of saved.lowRank.layers.flatMap((l) => l.drift)) {
      expect(drift.captured).toBeLessThanOrEqual(drift.best + 1e-9);
      expect(drift.overlap).toBeGreaterThanOrEqual(-1e-12);
      expect(drift.overlap).toBeLessThanOrEqual(1 + 1e-9);
    }
    expect(saved.lowRank.snapshotSteps).toEqual([0, 1, 2, 3, 4]); // every ⌈4/4⌉ = 1 step
    for (const plot of ['singular-value-decay', 'stable-rank', 'projector-drift', 'ritz-values', 'dimension-factor']) {
      const svg = readFileSync(join(out, `${plot}.svg`), 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(report).toContain(`(${plot}.svg)`);
    }
  });

  it('refuses to overwrite a non-empty --out unless --force, and never clears a folder that is not zolo output', async () => {
    const out = join(root, 'taken');
    mkdirSync(out);
    writeFileSync(join(out, 'check.json'), '{}');
    await expect(runCheckCommand(quick(out), () => {})).rejects.toThrow(/--out directory .* not empty; pass --force/);
    await runCheckCommand(quick(out, { force: true }), () => {});
    expect(existsSync(join(out, 'report.md'))).toBe(true);

    const unrelated = join(root, 'unrelated');
    mkdirSync(unrelated);
    writeFileSync(join(unrelated, 'notes.txt'), 'keep me');
    await expect(runCheckCommand(quick(unrelated, { force: true }), () => {})).rejects.toThrow(/--force refuses to clear/);
    expect(readFileSync(join(unrelated, 'notes.txt'), 'utf8')).toBe('keep me');
  });

  it.each([
    [{ method: 'mezo,mezzo' }, /--method must be .*mezo.*lozo.*got "mezzo"/],
    [{ method: 'adamw' }, /--method must be .*ZO estimators/],
    [{ task: 'imagenet' }, /--task must be one of .*(spam.*synthetic-blobs|synthetic-blobs.*spam).*got "imagenet"/],
    [{ draws: '1' }, /--draws must be an integer ≥ 2, got "1"/],
    [{ probes: 'many' }, /--probes must be an integer ≥ 2, got "many"/],
    [{ steps: '0' }, /--steps must be an integer ≥ 1/],
    [{ batch: '2.5' }, /--batch must be an integer ≥ 1/],
    [{ backend: 'tpu' }, /--backend must be one of .*cpu.*got "tpu"/],
    [{ out: undefined }, /--out is required/],
  ] as [Partial<CheckFlags>, RegExp][])('rejects bad flags with a ConfigError naming the flag: %o', (extra, message) => {
    const flags = { ...quick(join(root, 'never')), ...extra };
    expect(() => parseCheckFlags(flags)).toThrow(ConfigError);
    expect(() => parseCheckFlags(flags)).toThrow(message);
    expect(existsSync(join(root, 'never'))).toBe(false);
  });
});
