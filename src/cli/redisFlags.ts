/**
 * The flags every command that talks to Redis shares (suite --queue, worker, run --replicas,
 * replica): where Redis is and the TLS files passed through to it, plus the number parsers their
 * other flags use.
 */
import { Option, type Command } from 'commander';
import { ConfigError } from '../errors.ts';
import type { RedisTarget } from '../distributed/redisTarget.ts';

export interface RedisFlags {
  queue?: string;
  tlsCa?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export const QUEUE_HELP = 'Redis URL: redis://[user:password@]host:port[/db], or rediss://… for TLS';

export function addRedisFlags(command: Command, queueRequired: boolean): Command {
  const queue = new Option('--queue <url>', QUEUE_HELP);
  if (queueRequired) queue.makeOptionMandatory();
  return command
    .addOption(queue)
    .option('--tls-ca <file>', 'PEM file of the CA that signed the Redis server certificate (implies TLS)')
    .option('--tls-cert <file>', 'PEM client certificate for Redis (implies TLS)')
    .option('--tls-key <file>', 'PEM key of the client certificate (implies TLS)');
}

export function redisTargetOf(flags: RedisFlags): RedisTarget {
  if (flags.queue === undefined) throw new ConfigError('--queue is required: the Redis URL, e.g. redis://localhost:6379');
  return {
    url: flags.queue,
    ...(flags.tlsCa ? { tlsCa: flags.tlsCa } : {}),
    ...(flags.tlsCert ? { tlsCert: flags.tlsCert } : {}),
    ...(flags.tlsKey ? { tlsKey: flags.tlsKey } : {}),
  };
}

/** Parses an integer flag ≥ `min`; ConfigError naming the flag otherwise. */
export function integerFlag(flag: string, min: number): (value: string) => number {
  return (value) => {
    const parsed = value.trim() === '' ? Number.NaN : Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new ConfigError(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
    return parsed;
  };
}

/** Parses a duration flag in seconds (> 0) into milliseconds. */
export function secondsFlag(flag: string): (value: string) => number {
  return (value) => {
    const parsed = value.trim() === '' ? Number.NaN : Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new ConfigError(`${flag} must be a number of seconds > 0, got ${JSON.stringify(value)}`);
    return Math.round(parsed * 1000);
  };
}
