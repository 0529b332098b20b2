/**
 * Run checkpoints: one safetensors file (src/nn/safetensors.ts) holding everything a resumed run
 * needs — every parameter (`param/<name>`, real shapes), the method's state tensors
 * (`state/<name>`) and a JSON run state (step, counters, RNG/data position, file offsets) in
 * `__metadata__["zolo.runState"]`.
 *
 * Atomicity: the bytes go to `<path>.tmp-<pid>`, are fsynced, then renamed over `<path>`. A kill at
 * any moment leaves either the previous complete checkpoint or the new one, never a torn file;
 * stale temp files are ignored by readers and removed by the next write.
 */
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FormatError } from '../errors.ts';
import { decodeSafetensors, encodeSafetensors, type SafetensorsEntry } from '../nn/safetensors.ts';

export const RUN_CHECKPOINT_FORMAT = 'zolo-run-checkpoint/1';

export interface CheckpointContents {
  tensors: Map<string, SafetensorsEntry>;
  /** JSON-serialisable run state. */
  state: unknown;
}

export interface AtomicWriteHooks {
  /** called after the temp file is complete and fsynced, before the rename (tests simulate a kill here). */
  beforeRename?: () => void;
}

/** Writes `bytes` to `path` atomically: temp file, fsync, rename. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string, hooks: AtomicWriteHooks = {}): void {
  removeStaleTemps(path);
  const temp = `${path}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w');
  try {
    writeSync(fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  hooks.beforeRename?.();
  renameSync(temp, path);
}

function removeStaleTemps(path: string): void {
  const folder = dirname(path);
  if (!existsSync(folder)) return;
  const prefix = `${basename(path)}.tmp-`;
  for (const name of readdirSync(folder)) if (name.startsWith(prefix)) rmSync(join(folder, name), { force: true });
}

export function writeCheckpoint(path: string, contents: CheckpointContents, hooks: AtomicWriteHooks = {}): void {
  const metadata = { 'zolo.format': RUN_CHECKPOINT_FORMAT, 'zolo.runState': JSON.stringify(contents.state) };
  writeFileAtomic(path, encodeSafetensors(contents.tensors, metadata), hooks);
}

export function readCheckpoint(path: string): CheckpointContents {
  if (!existsSync(path)) throw new FormatError(`no checkpoint at ${path}`);
  const { tensors, metadata } = decodeSafetensors(readFileSync(path), path);
  if (metadata['zolo.format'] !== RUN_CHECKPOINT_FORMAT || metadata['zolo.runState'] === undefined) {
    throw new FormatError(`${path}: not a zolo run checkpoint (__metadata__ "zolo.format" is ${JSON.stringify(metadata['zolo.format'])}, expected "${RUN_CHECKPOINT_FORMAT}")`);
  }
  return { tensors, state: JSON.parse(metadata['zolo.runState']) };
}
