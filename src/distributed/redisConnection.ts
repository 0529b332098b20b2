/**
 * Connections to a RedisTarget (redisTarget.ts): its URL's host, port, database, user and password
 * and its TLS files are passed through to ioredis (and BullMQ) unchanged, the same for every zolo
 * process that talks to Redis (suite, worker, run coordinator, replica).
 *
 * Connecting is bounded: `openRedis` gives up after `connectTimeoutMs` and throws RedisUnavailable
 * naming the address (the password masked), instead of retrying forever as ioredis does by default.
 * Once connected, a lost connection is retried a few times, then commands fail rather than hang.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { RedisOptions as BullmqRedisOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError, describeValue } from '../errors.ts';
import { RedisUnavailable } from './errors.ts';
import type { RedisTarget } from './redisTarget.ts';

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Reconnection attempts after a connection that worked is lost (≈ 6 s in all), then commands fail. */
const RECONNECT_ATTEMPTS = 20;
const RECONNECT_DELAY_MS = 300;

/** The URL with its password replaced by ***, for messages and logs. */
export function maskedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return '(unparsable URL)';
  }
}

function readPem(field: string, path: string | undefined): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`${field} must name a readable PEM file, got ${describeValue(path)} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
}

/**
 * ioredis options for `target`; bad URLs and unreadable TLS files are a ConfigError naming the
 * option. `blocking` connections (BullMQ workers, stream readers) never time out a command.
 */
export function redisOptions(target: RedisTarget, { blocking = false }: { blocking?: boolean } = {}): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(target.url);
  } catch {
    throw new ConfigError(`--queue must be a URL redis://[user:password@]host:port[/db] or rediss://… (TLS), got ${describeValue(target.url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError(`--queue must be a redis:// or rediss:// URL, got ${describeValue(maskedUrl(target.url))}`);
  }
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new ConfigError(`--queue database (the URL's path) must be an integer ≥ 0, got ${describeValue(dbText)}`);
  const ca = readPem('--tls-ca', target.tlsCa);
  const cert = readPem('--tls-cert', target.tlsCert);
  const key = readPem('--tls-key', target.tlsKey);
  const wantsTls = parsed.protocol === 'rediss:' || ca !== undefined || cert !== undefined || key !== undefined;
  // SNI takes host names only (RFC 6066); an IP address is checked against the certificate without it
  const tls: TlsOptions | undefined = wantsTls ? { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(isIP(parsed.hostname) === 0 ? { servername: parsed.hostname } : {}) } : undefined;
  const connectTimeout = target.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return {
    host: parsed.hostname,
    port,
    db,
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(tls ? { tls } : {}),
    connectTimeout,
    // BullMQ requires null on its blocking connections; elsewhere a command fails after the retries
    maxRetriesPerRequest: blocking ? null : 3,
    retryStrategy: (attempt: number) => (attempt > RECONNECT_ATTEMPTS ? null : RECONNECT_DELAY_MS),
  };
}

/** `redisOptions` as BullMQ takes them (its own option type, which ioredis's object satisfies field by field). */
export function bullmqConnection(target: RedisTarget, options: { blocking?: boolean } = {}): BullmqRedisOptions {
  const { retryStrategy, ...rest } = redisOptions(target, options);
  return { ...rest, ...(retryStrategy ? { retryStrategy } : {}) };
}

/**
 * A connected client, or RedisUnavailable after the connect timeout: the first connection is not
 * retried, so a wrong address or a stopped server is reported at once instead of hanging.
 */
export async function openRedis(target: RedisTarget, options: { blocking?: boolean; name?: string } = {}): Promise<Redis> {
  const base = redisOptions(target, options);
  const client = new Redis({ ...base, lazyConnect: true, retryStrategy: () => null, ...(options.name ? { connectionName: options.name } : {}) });
  // the socket's error (ECONNREFUSED, ENOTFOUND, a TLS failure) says more than connect()'s rejection
  let socketError: NodeJS.ErrnoException | null = null;
  client.on('error', (error: NodeJS.ErrnoException) => (socketError ??= error));
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    const cause = socketError ?? (error as NodeJS.ErrnoException);
    const reason = cause.code ?? cause.message;
    throw new RedisUnavailable(
      `cannot reach Redis at ${maskedUrl(target.url)} (${reason}) within ${base.connectTimeout} ms; start redis-server there, or pass the right --queue URL (password, rediss:// and --tls-* for TLS)`,
    );
  }
  // from now on a lost connection is retried a bounded number of times
  client.options.retryStrategy = base.retryStrategy;
  return client;
}
