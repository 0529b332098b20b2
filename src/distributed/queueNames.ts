/**
 * One BullMQ queue per suite, so two suites never share jobs. The default name is derived from the
 * suite folder — its name plus a hash of its absolute path and host — so resuming a suite finds its
 * queue again, and two folders of the same name elsewhere get different queues.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { basename, resolve } from 'node:path';
import { ConfigError, describeValue } from '../errors.ts';

/** The set of suite queues whose `zolo suite` is collecting: what `zolo worker` without --name serves. */
export const OPEN_SUITES = 'zolo:suites';

// BullMQ builds keys as <prefix>:<name>:…, so a name must not contain ":"
const QUEUE_NAME = /^[A-Za-z0-9._-]{1,200}$/;

export function checkQueueName(name: string, field = '--name'): string {
  if (!QUEUE_NAME.test(name)) throw new ConfigError(`${field} must be 1–200 letters, digits, ".", "_" or "-", got ${describeValue(name)}`);
  return name;
}

export function suiteQueueName(dir: string): string {
  const absolute = resolve(dir);
  const hash = createHash('sha256').update(`${hostname()}\n${absolute}`).digest('hex').slice(0, 8);
  const base = basename(absolute).replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 150);
  return `zolo-suite-${base}-${hash}`;
}
