/**
 * Where Redis is and how to reach it: a URL — `redis://[user:password@]host:port[/db]`, or
 * `rediss://…` for TLS — plus optional TLS files (CA, client certificate and key). Connecting is
 * redisConnection.ts's job; this file imports nothing, so the public declarations that name a
 * target do not pull in the Redis client's.
 */
export interface RedisTarget {
  /** redis://… or rediss://… */
  url: string;
  /** PEM files for TLS; any of them implies TLS. */
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** how long to try before RedisUnavailable; default DEFAULT_CONNECT_TIMEOUT_MS (redisConnection.ts, 5 s). */
  connectTimeoutMs?: number;
}
