/**
 * A command's single output file (`--out FILE`), checked before any work starts (the caller then
 * writes it atomically with writeFileAtomic).
 * An existing file is kept unless the user says --force; a file the command reads is never its
 * output, whatever --force says (compared by resolved real path, so `./a`, `a` and a symlink to it
 * are one file); the folder must exist — creating folders is the user's call, not a typo's.
 */
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';

/** The real path a file has or would have (its folder's real path plus its name). */
function realTarget(file: string): string {
  if (existsSync(file)) return realpathSync(file);
  return join(realpathSync(dirname(resolve(file))), basename(file));
}

/** Throws ConfigError unless `out` may be written; `inputs` are the files the command reads. */
export function checkOutputFile(flag: string, out: string, inputs: readonly string[], force: boolean): void {
  const folder = dirname(resolve(out));
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new ConfigError(`${flag} ${out}: the folder ${dirname(out)} does not exist; create it first or choose another ${flag}`);
  }
  if (existsSync(out) && statSync(out).isDirectory()) throw new ConfigError(`${flag} ${out} is a directory; give a file name`);
  const target = realTarget(out);
  for (const input of inputs) {
    if (existsSync(input) && realpathSync(input) === target) {
      throw new ConfigError(`${flag} ${out} is the input file ${input}; writing it would destroy the input (--force does not change this), choose another ${flag}`);
    }
  }
  if (existsSync(out) && !force) throw new ConfigError(`${flag} ${out} exists; pass --force to overwrite it`);
}

