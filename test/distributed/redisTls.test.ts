/**
 * TLS is passed through to every kind of connection zolo makes — plain commands, BullMQ queues and
 * the heartbeat thread's own connection — against a private TLS-only redis-server that requires a
 * client certificate (test/fixtures/tls).
 */
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisUnavailable } from '../../src/distributed/errors.ts';
import { bullmqConnection, openRedis } from '../../src/distributed/redisConnection.ts';
import type { RedisTarget } from '../../src/distributed/redisTarget.ts';
import { ReplicaChannel } from '../../src/distributed/replicaChannel.ts';
import { startRedisServer, TLS_FIXTURES, type RedisServer } from './redisServer.ts';

let redis: RedisServer;
let target: RedisTarget;
beforeAll(async () => {
  redis = await startRedisServer({ tls: true });
  target = { url: redis.url, tlsCa: join(TLS_FIXTURES, 'ca.pem'), tlsCert: join(TLS_FIXTURES, 'client.pem'), tlsKey: join(TLS_FIXTURES, 'client.key') };
});
afterAll(async () => {
  await redis?.stop();
});

const HEARTBEAT_MS = 300;

describe('Redis over TLS', () => {
  it('connects with the CA and client certificate, and is refused without them', async () => {
    const client = await openRedis(target);
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
    // --tls-* files imply TLS even on a redis:// URL
    const implied = await openRedis({ ...target, url: redis.url.replace('rediss://', 'redis://') });
    expect(await implied.ping()).toBe('PONG');
    implied.disconnect();
    const { tlsCert: _cert, tlsKey: _key, ...noClientCertificate } = target;
    await expect(openRedis({ ...noClientCertificate, connectTimeoutMs: 2_000 })).rejects.toThrow(RedisUnavailable);
    const { tlsCa: _ca, ...unknownCa } = target;
    await expect(openRedis({ ...unknownCa, connectTimeoutMs: 2_000 })).rejects.toThrow(RedisUnavailable);
  });

  it('carries BullMQ queues', async () => {
    const queue = new Queue('zolo-tls-test', { connection: bullmqConnection(target) });
    try {
      await queue.add('run', { n: 1 }, { jobId: 'one' });
      expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 1 });
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('keeps a replica lease alive from the heartbeat thread, which takes the same TLS files', async () => {
    const channel = await ReplicaChannel.open(target, 'tls-group');
    try {
      const lease = (await channel.takeRank(1, HEARTBEAT_MS))!;
      expect(lease).not.toBeNull();
      // the key expires after one timeout unless the thread renews it: wait several
      await new Promise((resolve) => setTimeout(resolve, 4 * HEARTBEAT_MS));
      expect(lease.lost).toBe(false);
      expect(await channel.alive(1)).toBe(true);
      await lease.release();
      expect(await channel.alive(1)).toBe(false);
    } finally {
      channel.close();
    }
  });
});
