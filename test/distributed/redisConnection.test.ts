import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisUnavailable } from '../../src/distributed/errors.ts';
import { maskedUrl, openRedis, redisOptions } from '../../src/distributed/redisConnection.ts';
import { ConfigError } from '../../src/errors.ts';
import { startRedisServer, type RedisServer } from './redisServer.ts';

const PASSWORD = 'pa:ss/word';
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer({ password: PASSWORD });
});
afterAll(async () => {
  await redis?.stop();
});

describe('Redis targets', () => {
  it('pass user, password, database and TLS through to ioredis', () => {
    expect(redisOptions({ url: 'redis://alice:s%3Acret@queue.example:6380/2' })).toMatchObject({ host: 'queue.example', port: 6380, db: 2, username: 'alice', password: 's:cret' });
    expect(redisOptions({ url: 'redis://localhost' })).toMatchObject({ port: 6379, db: 0 });
    expect(redisOptions({ url: 'redis://localhost' }).tls).toBeUndefined();
    expect(redisOptions({ url: 'rediss://queue.example:6380' }).tls).toMatchObject({ servername: 'queue.example' });
  });

  it('refuse what is not a Redis URL or a readable TLS file, naming the option', () => {
    expect(() => redisOptions({ url: 'localhost:6379' })).toThrow(ConfigError);
    expect(() => redisOptions({ url: 'http://localhost:6379' })).toThrow('--queue must be a redis:// or rediss:// URL, got "http://localhost:6379"');
    expect(() => redisOptions({ url: 'redis://localhost/x' })).toThrow('--queue database (the URL\'s path) must be an integer ≥ 0, got "x"');
    expect(() => redisOptions({ url: 'redis://localhost', tlsCa: '/nonexistent/ca.pem' })).toThrow('--tls-ca must name a readable PEM file, got "/nonexistent/ca.pem" (ENOENT)');
  });

  it('mask the password in everything they print', () => {
    expect(maskedUrl('redis://alice:secret@host:1/0')).toBe('redis://alice:***@host:1/0');
    expect(maskedUrl('redis://host:1')).toBe('redis://host:1');
  });

  it('authenticate with the URL\'s password, and say so without leaking it when it is wrong', async () => {
    const client = await openRedis({ url: redis.url });
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
    const wrong = `redis://:nope@127.0.0.1:${redis.port}`;
    const failure = openRedis({ url: wrong, connectTimeoutMs: 2_000 });
    await expect(failure).rejects.toThrow(RedisUnavailable);
    await expect(failure).rejects.toThrow(`cannot reach Redis at redis://:***@127.0.0.1:${redis.port}`);
    await expect(failure).rejects.not.toThrow('nope');
  });
});
