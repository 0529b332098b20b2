import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readCheckpoint, writeCheckpoint } from '../../src/experiment/checkpoint.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'zolo-ckpt-'));
  dirs.push(dir);
  return dir;
}

function contents(step: number) {
  return {
    tensors: new Map([
      ['param/w', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, step]) }],
      ['state/m', { shape: [2], data: Float32Array.from([Math.PI, -0]) }],
    ]),
    state: { step, seedStream: { i: 3, j: 7, S: [1, 2, 3] } },
  };
}

class SimulatedKill extends Error {}

describe('atomic run checkpoints', () => {
  it('round-trips tensors bit for bit and the JSON state', () => {
    const path = join(tempDir(), 'checkpoint.safetensors');
    writeCheckpoint(path, contents(5));
    const read = readCheckpoint(path);
    expect(read.state).toEqual(contents(5).state);
    expect(read.tensors.get('param/w')).toEqual({ shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 5]), dtype: 'F32' });
    expect(Object.is(read.tensors.get('state/m')!.data[1], -0)).toBe(true);
  });

  it('a kill between write and rename leaves the previous checkpoint intact, and the next write cleans up', () => {
    const dir = tempDir();
    const path = join(dir, 'checkpoint.safetensors');
    writeCheckpoint(path, contents(10));
    expect(() =>
      writeCheckpoint(path, contents(20), {
        beforeRename: () => {
          throw new SimulatedKill('killed after fsync, before rename');
        },
      }),
    ).toThrow(SimulatedKill);
    // the complete new file sits in a temp name; the checkpoint is still the old one
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toHaveLength(1);
    expect(readCheckpoint(path).state).toEqual(contents(10).state);
    writeCheckpoint(path, contents(30));
    expect(readdirSync(dir)).toEqual(['checkpoint.safetensors']);
    expect(readCheckpoint(path).state).toEqual(contents(30).state);
  });

  it('a kill before the first checkpoint leaves no checkpoint, and reading says so', () => {
    const dir = tempDir();
    const path = join(dir, 'checkpoint.safetensors');
    expect(() => writeCheckpoint(path, contents(1), { beforeRename: () => { throw new SimulatedKill(); } })).toThrow(SimulatedKill);
    expect(existsSync(path)).toBe(false);
    expect(() => readCheckpoint(path)).toThrow(`no checkpoint at ${path}`);
  });
});
