/** `zolo --version` prints package.json's version (through the real bin wrapper). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');

describe('zolo --version', () => {
  it('prints the package version', () => {
    const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
    expect(execFileSync(process.execPath, [join(repo, 'bin', 'zolo.js'), '--version'], { encoding: 'utf8' }).trim()).toBe(version);
  });
});
