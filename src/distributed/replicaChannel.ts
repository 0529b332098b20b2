/**
 * A replica group's Redis keys and the two connections each member uses: one for commands
 * (publishing, leases, the log) and one that blocks on the event stream. Every key of a group
 * lives under `zolo:dp:<name>:`, so groups with different names never see each other.
 *
 *   meta          JSON: protocol, run config, replica count, the coordinator's kernels, status
 *   events        the stream of ReplicaMessages (replicaProtocol.ts), trimmed to recent entries
 *   log           list: entry t is step t's zo-log line (seeds, projected gradients), what a late joiner replays
 *   hb:<rank>     a rank's lease and heartbeat (heartbeat.ts)
 */
import type { Redis, RedisOptions } from 'ioredis';
import { ConfigError, describeValue } from '../errors.ts';
import { ReplicaError } from './errors.ts';
import { takeLease, type Lease } from './heartbeat.ts';
import { openRedis, redisOptions } from './redisConnection.ts';
import type { RedisTarget } from './redisTarget.ts';
import { parseMessage, type ReplicaMessage } from './replicaProtocol.ts';
import { wireBytesOf, type WireBytes } from './wireBytes.ts';

export const GROUP_PREFIX = 'zolo:dp';
/** The set of groups whose coordinator is running: what `zolo replica` without --group chooses from. */
export const OPEN_GROUPS = `${GROUP_PREFIX}:open`;

/** Stream entries kept (approximately): members read within a step, so only the recent past matters. */
const EVENTS_KEPT = 10_000;
/** Entries per XREAD. */
const READ_BATCH = 1_000;

const GROUP_NAME = /^[A-Za-z0-9._-]{1,100}$/;

export function checkGroupName(name: string, field = '--group'): string {
  if (!GROUP_NAME.test(name)) throw new ConfigError(`${field} must be 1–100 letters, digits, ".", "_" or "-", got ${describeValue(name)}`);
  return name;
}

export interface GroupKeys {
  meta: string;
  events: string;
  log: string;
  heartbeat(rank: number): string;
}

export function groupKeys(name: string): GroupKeys {
  const base = `${GROUP_PREFIX}:${checkGroupName(name)}`;
  return { meta: `${base}:meta`, events: `${base}:events`, log: `${base}:log`, heartbeat: (rank) => `${base}:hb:${rank}` };
}

export class ReplicaChannel {
  /** ID of the last stream entry read; reading continues after it. */
  cursor = '0-0';

  private constructor(
    readonly name: string,
    readonly keys: GroupKeys,
    readonly commands: Redis,
    private readonly reader: Redis,
    private readonly options: RedisOptions,
  ) {}

  static async open(target: RedisTarget, name: string): Promise<ReplicaChannel> {
    const keys = groupKeys(name);
    const commands = await openRedis(target, { name: `zolo-replica-${name}` });
    let reader: Redis;
    try {
      reader = await openRedis(target, { blocking: true, name: `zolo-replica-${name}-reader` });
    } catch (error) {
      commands.disconnect();
      throw error;
    }
    return new ReplicaChannel(name, keys, commands, reader, redisOptions(target));
  }

  async publish(message: ReplicaMessage): Promise<string> {
    const id = await this.commands.xadd(this.keys.events, 'MAXLEN', '~', String(EVENTS_KEPT), '*', 'm', JSON.stringify(message));
    if (id === null) throw new ReplicaError(`Redis refused to append to ${this.keys.events}`);
    return id;
  }

  /** Entries after the cursor, waiting up to `blockMs` for the first (0 = do not wait). */
  async read(blockMs: number): Promise<ReplicaMessage[]> {
    const stream = this.keys.events;
    const reply = (blockMs > 0
      ? await this.reader.xread('COUNT', READ_BATCH, 'BLOCK', blockMs, 'STREAMS', stream, this.cursor)
      : await this.reader.xread('COUNT', READ_BATCH, 'STREAMS', stream, this.cursor)) as [string, [string, string[]][]][] | null;
    const messages: ReplicaMessage[] = [];
    for (const [, entries] of reply ?? []) {
      for (const [id, fields] of entries) {
        this.cursor = id;
        const text = fields[fields.indexOf('m') + 1];
        if (text === undefined) throw new ReplicaError(`${stream} entry ${id} has no "m" field`);
        messages.push(parseMessage(text, `${stream} entry ${id}`));
      }
    }
    return messages;
  }

  /** Whether `rank`'s lease is held (its owner beat within the timeout). */
  async alive(rank: number): Promise<boolean> {
    return (await this.commands.exists(this.keys.heartbeat(rank))) === 1;
  }

  takeRank(rank: number, timeoutMs: number): Promise<Lease | null> {
    return takeLease(this.commands, this.options, this.keys.heartbeat(rank), timeoutMs);
  }

  wireBytes(): WireBytes {
    return wireBytesOf([this.commands, this.reader]);
  }

  close(): void {
    this.commands.disconnect();
    this.reader.disconnect();
  }
}
