/**
 * A rank's lease and heartbeat: the key `<prefix>:hb:<rank>` holds the owner's token and expires
 * after the heartbeat timeout unless renewed. Taking a rank is `SET NX` on that key, so a rank is
 * held exactly while its owner keeps beating; a replica that dies (or is killed) loses it within
 * one timeout, and anyone may then take it over.
 *
 * The beats come from a worker thread with its own connection, not from the main thread's timers:
 * a forward pass or an evaluation runs synchronously on the main thread for seconds at a time, and
 * beats that waited for it would make a busy replica look dead. So a heartbeat says "this process
 * is alive", whatever its main thread is doing.
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Redis, RedisOptions } from 'ioredis';

/** Renews the key only while it still holds our token (a lease taken over by another owner stays theirs). */
const RENEW_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return -1 end";
const RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Beats per timeout: a lease survives two lost beats. */
const BEATS_PER_TIMEOUT = 3;

const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { Redis } = require(workerData.ioredisPath);
const { key, token, timeoutMs, intervalMs, renew, release } = workerData;
const client = new Redis({ ...workerData.options, retryStrategy: (attempt) => Math.min(attempt * 100, 1000) });
client.on('error', () => {});
let stopped = false;
let ready = false;
const beat = async () => {
  try {
    const result = await client.eval(renew, 1, key, token, String(timeoutMs));
    if (result === -1 && !stopped) {
      stopped = true;
      clearInterval(timer);
      parentPort.postMessage('lost');
    } else if (!ready) {
      ready = true;
      parentPort.postMessage('ready');
    }
  } catch {}
};
const timer = setInterval(beat, intervalMs);
void beat();
parentPort.on('message', async (message) => {
  if (message !== 'stop') return;
  stopped = true;
  clearInterval(timer);
  try { await client.eval(release, 1, key, token); } catch {}
  client.disconnect();
  parentPort.postMessage('stopped');
});
`;

export interface Lease {
  readonly key: string;
  readonly token: string;
  /** true once another owner holds the key (ours expired): this process no longer has the rank. */
  readonly lost: boolean;
  /** stops beating and frees the key. */
  release(): Promise<void>;
}

/** Tries to take `key` for `timeoutMs`; null when another owner holds it. */
export async function takeLease(client: Redis, options: RedisOptions, key: string, timeoutMs: number): Promise<Lease | null> {
  const token = `${process.pid}-${randomUUID()}`;
  const taken = await client.set(key, token, 'PX', timeoutMs, 'NX');
  if (taken !== 'OK') return null;
  // options cross to the thread by structured clone: no functions
  const { retryStrategy: _retry, ...cloneable } = options;
  const intervalMs = Math.max(10, Math.floor(timeoutMs / BEATS_PER_TIMEOUT));
  const thread = new Worker(THREAD_SOURCE, {
    eval: true,
    workerData: {
      ioredisPath: createRequire(import.meta.url).resolve('ioredis'),
      options: cloneable,
      key,
      token,
      timeoutMs,
      intervalMs,
      renew: RENEW_SCRIPT,
      release: RELEASE_SCRIPT,
    },
  });
  let lost = false;
  let released: Promise<void> | null = null;
  // until the thread's first beat (starting it and connecting can take longer than a short timeout), the main thread beats
  const bridge = setInterval(() => void client.eval(RENEW_SCRIPT, 1, key, token, String(timeoutMs)).catch(() => {}), intervalMs);
  const firstBeat = new Promise<void>((resolve, reject) => {
    thread.on('message', (message) => {
      if (message === 'lost') lost = true;
      if (message === 'ready' || message === 'lost') resolve();
    });
    thread.once('error', reject);
  });
  try {
    await firstBeat;
  } finally {
    clearInterval(bridge);
  }
  thread.unref();
  return {
    key,
    token,
    get lost() {
      return lost;
    },
    release() {
      released ??= new Promise<void>((resolve) => {
        const done = (): void => {
          void thread.terminate().then(() => resolve());
        };
        thread.on('message', (message) => {
          if (message === 'stopped') done();
        });
        thread.once('error', done);
        thread.postMessage('stop');
        // a thread that cannot reach Redis any more is ended anyway
        setTimeout(done, 2_000).unref();
      });
      return released;
    },
  };
}
