/**
 * One writer per run folder. A run holds DIR/.lock (created exclusively; it records pid, host and
 * start time) from before it touches the folder until it ends; a second `zolo run` (or `--resume`,
 * or `--force`) on the same folder is refused, naming the holder. A lock whose process is gone —
 * same host, pid no longer alive (a SIGKILL, a crash, a reboot) — is stale and taken over; a lock
 * from another host cannot be checked, so the message says how to remove it by hand.
 */
import { existsSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';

export const LOCK_FILE = '.lock';

interface LockHolder {
  pid: number;
  host: string;
  startedAt: string;
}

export interface RunLock {
  release(): void;
}

function readHolder(path: string): LockHolder | null {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder>;
    return typeof holder.pid === 'number' && typeof holder.host === 'string' ? { pid: holder.pid, host: holder.host, startedAt: String(holder.startedAt) } : null;
  } catch {
    // a lock torn by a crash between create and write holds no live writer's record
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Throws ConfigError when a live writer other than this process holds `dir`'s lock. */
export function assertUnlocked(dir: string): void {
  const path = join(dir, LOCK_FILE);
  if (!existsSync(path)) return;
  const holder = readHolder(path);
  if (holder === null || holder.pid === process.pid && holder.host === hostname()) return;
  if (holder.host !== hostname()) {
    throw new ConfigError(`run folder ${dir} is locked by pid ${holder.pid} on host ${holder.host} (since ${holder.startedAt}); if that process is gone, delete ${path}`);
  }
  if (isAlive(holder.pid)) {
    throw new ConfigError(`run folder ${dir} is in use by pid ${holder.pid} (since ${holder.startedAt}); wait for it, stop it, or choose another --out`);
  }
}

/** Takes `dir`'s lock (the folder must exist); stale locks are taken over. */
export function acquireRunLock(dir: string): RunLock {
  const path = join(dir, LOCK_FILE);
  assertUnlocked(dir);
  rmSync(path, { force: true });
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    // another writer created it between our check and our create
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      assertUnlocked(dir);
      throw new ConfigError(`run folder ${dir} was locked by another process just now; try again`);
    }
    throw error;
  }
  writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() }));
  closeSync(fd);
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      const holder = readHolder(path);
      if (holder?.pid === process.pid) rmSync(path, { force: true });
    },
  };
}
