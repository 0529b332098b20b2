import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { takeLease } from '../../src/distributed/heartbeat.ts';
import { redisOptions } from '../../src/distributed/redisConnection.ts';
import { startRedisServer, type RedisServer } from './redisServer.ts';

let redis: RedisServer;
let client: Redis;
beforeAll(async () => {
  redis = await startRedisServer();
  client = new Redis(redisOptions({ url: redis.url }));
});
afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

const TIMEOUT_MS = 600;

describe('leases', () => {
  it('stay held while the main thread is blocked for several timeouts, and are freed on release', async () => {
    const lease = (await takeLease(client, redisOptions({ url: redis.url }), 'lease:busy', TIMEOUT_MS))!;
    expect(lease).not.toBeNull();
    // a second owner cannot take it
    expect(await takeLease(client, redisOptions({ url: redis.url }), 'lease:busy', TIMEOUT_MS)).toBeNull();
    // a synchronous forward pass of 3 timeouts: the beats come from the lease's own thread
    const until = performance.now() + 3 * TIMEOUT_MS;
    while (performance.now() < until);
    expect(await client.get('lease:busy')).toBe(lease.token);
    expect(lease.lost).toBe(false);
    await lease.release();
    expect(await client.exists('lease:busy')).toBe(0);
  });

  it('knows when another owner took the key over', async () => {
    const lease = (await takeLease(client, redisOptions({ url: redis.url }), 'lease:lost', TIMEOUT_MS))!;
    await client.set('lease:lost', 'someone else');
    for (let tries = 0; tries < 100 && !lease.lost; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lease.lost).toBe(true);
    await lease.release();
    // releasing a lease that is not ours any more leaves the new owner's key alone
    expect(await client.get('lease:lost')).toBe('someone else');
  });
});
