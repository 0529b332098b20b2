/**
 * Data-parallel ZO on a private redis-server: a coordinator (zolo run --replicas) and replicas in
 * this process, on the cpu backend and the synthetic-blobs task, against single-process runs of the
 * same config. Bit-for-bit equality is the claim, so parameters are compared as raw bytes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import { parseRunConfig, type RunConfig } from '../../src/experiment/config.ts';
import { readMetrics } from '../../src/experiment/results.ts';
import { runExperiment } from '../../src/experiment/runner.ts';
import { RedisUnavailable } from '../../src/distributed/errors.ts';
import { REPLICA_MODEL, runReplica } from '../../src/distributed/replica.ts';
import { REPLICAS_LOG, runReplicated } from '../../src/distributed/replicatedRun.ts';
import { decodeSafetensors } from '../../src/nn/safetensors.ts';
import { freePort, startRedisServer, type RedisServer } from './redisServer.ts';

let redis: RedisServer;
const root = mkdtempSync(join(tmpdir(), 'zolo-dp-'));
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

const HEARTBEAT_MS = 1_500;

function config(method: string, out: string, extra: Record<string, unknown> = {}): RunConfig {
  return parseRunConfig({
    method, task: 'synthetic-blobs', model: 'linear', backend: 'cpu', steps: 8, batchSize: 16, seed: 7,
    lr: 0.05, checkpointEvery: 4, evalInterval: 0, out, ...extra,
  });
}

/** Every parameter of a safetensors file as raw bytes, by name. */
function parameterBytes(path: string): Map<string, string> {
  const { tensors } = decodeSafetensors(readFileSync(path), path);
  return new Map([...tensors].map(([name, entry]) => [name, Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength).toString('hex')]));
}

const trainLosses = (dir: string): (number | null)[] => readMetrics(dir).map((line) => line.trainLoss);

describe('data-parallel ZO over Redis', () => {
  for (const [method, options] of [['mezo', {}], ['lozo', { options: { interval: 5 } }]] as const) {
    it(`2-replica ${method} ends with the single-process weights, bit for bit`, async () => {
      const single = await runExperiment(config(method, join(root, `${method}-single`), options));
      const group = `${method}-pair`;
      const [coordinated, replica] = await Promise.all([
        runReplicated(config(method, join(root, `${method}-coordinator`), options), { target: { url: redis.url }, replicas: 2, group, heartbeatMs: HEARTBEAT_MS, joinTimeoutMs: 60_000 }),
        // lozo's replica names no group: it waits for the only group to open (the coordinator opens it at its first step)
        runReplica({ target: { url: redis.url }, ...(method === 'mezo' ? { group } : {}), out: join(root, `${method}-replica`), waitMs: 60_000 }),
      ]);
      expect(coordinated.summary.steps).toBe(8);
      expect(replica.stop.reason).toBe('completed');
      expect(replica.step).toBe(8);
      const expected = parameterBytes(join(single.dir, 'model.safetensors'));
      expect(parameterBytes(join(coordinated.dir, 'model.safetensors'))).toEqual(expected);
      expect(parameterBytes(join(replica.dir, REPLICA_MODEL))).toEqual(expected);
      // every step's loss (the fold of both replicas' rows) is the single-process loss
      expect(trainLosses(coordinated.dir)).toEqual(trainLosses(single.dir));
      // the zo-log (seeds, projected gradients) is the same trajectory
      expect(readFileSync(join(coordinated.dir, 'zo-log.jsonl'), 'utf8')).toBe(readFileSync(join(single.dir, 'zo-log.jsonl'), 'utf8'));
      expect(coordinated.traffic.steps).toBe(8);
    });
  }

  it('every other ZO preset that runs on the linear model also ends with the single-process weights', async () => {
    // the difference schemes (central, one-sided), perturbations (sphere, Rademacher, low-rank momentum) and
    // optimizers (sign, momentum, conservative with its extra loss evaluations, Adam) all see only the group's losses
    for (const method of ['mezo-sphere', 'mezo-rademacher', 'zo-sgd-one-sided', 'zo-sgd-sign', 'zo-sgd-mmt', 'zo-sgd-cons', 'zo-adam', 'lozo-m']) {
      const steps = { steps: 6 };
      const single = await runExperiment(config(method, join(root, `${method}-single`), steps));
      const group = `${method}-pair`;
      const [coordinated, replica] = await Promise.all([
        runReplicated(config(method, join(root, `${method}-coordinator`), steps), { target: { url: redis.url }, replicas: 2, group, heartbeatMs: HEARTBEAT_MS, joinTimeoutMs: 60_000 }),
        runReplica({ target: { url: redis.url }, group, out: join(root, `${method}-replica`), waitMs: 60_000 }),
      ]);
      const expected = parameterBytes(join(single.dir, 'model.safetensors'));
      expect(parameterBytes(join(coordinated.dir, 'model.safetensors')), method).toEqual(expected);
      expect(parameterBytes(join(replica.dir, REPLICA_MODEL)), method).toEqual(expected);
    }
  });

  // a replica restarted on its own folder resumes from its checkpoint; one started on a fresh folder (a late
  // joiner, or a replacement on another machine) replays the whole log from the model's starting weights
  for (const [name, fromStep] of [['rejoin', 4], ['replace', 0]] as const) {
  it(`drops a replica that stops, redistributes its rows, and lets ${name === 'rejoin' ? 'it rejoin from its checkpoint' : 'a fresh replica take its place'}: it replays to identical weights`, async () => {
    const steps = 30;
    const single = await runExperiment(config('mezo', join(root, `${name}-single`), { steps }));
    const group = name;
    const out = join(root, `${name}-replica`);
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const coordinator = runReplicated(config('mezo', join(root, `${name}-coordinator`), { steps }), {
      target: { url: redis.url }, replicas: 2, group, heartbeatMs: HEARTBEAT_MS, joinTimeoutMs: 60_000,
      // hold the run at step 14 until the restarted replica has joined
      beforeStep: (step) => (step === 14 ? gate : Promise.resolve()),
    });
    // the first replica dies after step 6 (its last checkpoint is at step 4)
    await expect(runReplica({ target: { url: redis.url }, group, out, waitMs: 60_000, afterStep: (step) => {
      if (step === 6) throw new Error('simulated crash');
    } })).rejects.toThrow('simulated crash');
    const client = new Redis(redis.url);
    /** The ID of the first `kind` message after stream entry `after` that `match`es, once it is there. */
    const published = async (kind: string, match: (message: Record<string, unknown>) => boolean, after = '-'): Promise<string> => {
      for (let tries = 0; tries < 600; tries++) {
        const entries = await client.xrange(`zolo:dp:${group}:events`, after === '-' ? '-' : `(${after}`, '+');
        const found = entries.find(([, fields]) => {
          const message = JSON.parse(fields[1]!) as Record<string, unknown>;
          return message.kind === kind && match(message);
        });
        if (found) return found[0];
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`no ${kind} message on the stream`);
    };
    // the coordinator notices the silent replica and drops it, then goes on alone
    const drop = await published('drop', (message) => message.rank === 1);
    const restarted = runReplica({ target: { url: redis.url }, group, out: fromStep === 0 ? join(root, `${name}-fresh`) : out, waitMs: 60_000 });
    // release the coordinator once the restarted replica has asked to join (from its step-4 checkpoint, or from the start)
    await published('join', (message) => message.rank === 1 && message.fromStep === fromStep, drop);
    client.disconnect();
    release();
    const [coordinated, rejoined] = await Promise.all([coordinator, restarted]);
    const expected = parameterBytes(join(single.dir, 'model.safetensors'));
    expect(parameterBytes(join(coordinated.dir, 'model.safetensors'))).toEqual(expected);
    expect(parameterBytes(join(rejoined.dir, REPLICA_MODEL))).toEqual(expected);
    expect(trainLosses(coordinated.dir)).toEqual(trainLosses(single.dir));
    const events = readFileSync(join(coordinated.dir, REPLICAS_LOG), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { event: string; rank?: number; step?: number });
    const dropped = events.find((event) => event.event === 'dropped');
    expect(dropped).toMatchObject({ rank: 1, step: 6, reason: `no heartbeat for ${HEARTBEAT_MS} ms` });
    const rejoinedAt = events.filter((event) => event.event === 'joined' && event.rank === 1).map((event) => event.step!);
    // admitted again by the gate at step 14; it replayed the log from where it started up to its admission
    expect(rejoinedAt.length).toBe(2);
    expect(rejoinedAt[1]).toBeGreaterThan(6);
    expect(rejoinedAt[1]).toBeLessThanOrEqual(14);
    expect(rejoined.replayed).toBe(rejoinedAt[1]! - fromStep);
    expect(rejoined.traffic.steps).toBe(steps - rejoinedAt[1]!);
  });
  }

  it('fails at once with a clear error when Redis is down', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    await expect(runReplicated(config('mezo', join(root, 'down')), { target: { url, connectTimeoutMs: 2_000 }, replicas: 2 })).rejects.toThrow(RedisUnavailable);
    await expect(runReplica({ target: { url, connectTimeoutMs: 2_000 }, group: 'x' })).rejects.toThrow(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+/);
  });
});
