/**
 * Output folders: an existing non-empty folder is never written into unless the user says --force
 * (then it is cleared first) or --resume (then it is continued). --force only clears folders that
 * look like zolo output, so a typo cannot wipe an unrelated directory.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';

/** Files whose presence marks a folder as zolo output (a run or a suite). */
const MARKERS = ['config.json', 'suite.json', 'metrics.jsonl', 'summary.json', 'results.json'];

export function isNonEmptyDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory() && readdirSync(path).length > 0;
}

/** Makes `dir` ready for a fresh run or suite; throws ConfigError instead of overwriting. */
export function prepareFreshDir(dir: string, force: boolean, what = 'run'): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw new ConfigError(`out must be a directory, got the file ${dir}`);
  }
  if (isNonEmptyDir(dir)) {
    if (!force) {
      throw new ConfigError(
        `out directory ${dir} already exists and is not empty; pass --force to overwrite it, --resume to continue it, or choose another --out`,
      );
    }
    const entries = readdirSync(dir);
    if (!MARKERS.some((marker) => entries.includes(marker)) || resolve(dir) === resolve('.')) {
      throw new ConfigError(`--force refuses to clear ${dir}: it does not look like a zolo ${what} folder (none of ${MARKERS.join(', ')})`);
    }
    for (const entry of entries) rmSync(join(dir, entry), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
}

/** A folder name that does not exist yet: `<base>-<UTC timestamp>` (plus -2, -3 … on collision). */
export function timestampedDir(base: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
  let candidate = `${base}-${stamp}`;
  for (let n = 2; existsSync(candidate); n++) candidate = `${base}-${stamp}-${n}`;
  return candidate;
}
