/**
 * The check's output folder: DIR/check.json (CheckResults), DIR/report.md, DIR/<plot>.svg.
 * An existing non-empty DIR is refused unless `force`; even then only a folder that already holds
 * a check.json (an earlier check) or zolo run output is cleared, so a typo cannot wipe a directory.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../errors.ts';
import { isNonEmptyDir } from '../outDir.ts';
import { renderCheckPlots } from './plots.ts';
import { renderReport } from './report.ts';
import type { CheckResults } from './runCheck.ts';

export const CHECK_FILE = 'check.json';
export const REPORT_FILE = 'report.md';
const MARKERS = [CHECK_FILE, 'config.json', 'suite.json', 'summary.json'];

/** Throws a ConfigError naming --out / --force if DIR may not be written; changes nothing (call before any work). */
export function checkOutDir(dir: string, force: boolean): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new ConfigError(`--out must be a directory, got the file ${dir}`);
  if (!isNonEmptyDir(dir)) return;
  if (!force) throw new ConfigError(`--out directory ${dir} already exists and is not empty; pass --force to overwrite it or choose another --out`);
  const entries = readdirSync(dir);
  if (!MARKERS.some((marker) => entries.includes(marker)) || resolve(dir) === resolve('.')) {
    throw new ConfigError(`--force refuses to clear ${dir}: it does not look like zolo output (none of ${MARKERS.join(', ')})`);
  }
}

/** checkOutDir, then clears DIR (with force) and creates it. */
export function prepareCheckDir(dir: string, force: boolean): void {
  checkOutDir(dir, force);
  if (isNonEmptyDir(dir)) for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
}

/** Writes check.json, the plots and report.md; returns the paths written. */
export async function writeCheck(dir: string, results: CheckResults, command: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, text: string): void => {
    writeFileSync(join(dir, name), text);
    written.push(join(dir, name));
  };
  put(CHECK_FILE, `${JSON.stringify(results, null, 1)}\n`);
  const plots = await renderCheckPlots(results);
  for (const plot of plots) put(`${plot.name}.svg`, plot.svg);
  put(REPORT_FILE, renderReport(results, plots, command));
  return written;
}
