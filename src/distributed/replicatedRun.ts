/**
 * `zolo run --replicas N --queue URL`: the run itself, as rank 0 — the coordinator — of a
 * data-parallel replica group. It is an ordinary run (same folder, checkpoints, metrics, zo-log,
 * evaluation, resume), except that each training loss is computed by the group (replicaGroup.ts)
 * and each step is announced to it first and logged to it after, so a replica can join late and
 * catch up by replaying the log. Replicas (`zolo replica`, replica.ts) hold the same model and take
 * the same steps; only per-example losses cross the network.
 *
 * The run log DIR/replicas.jsonl records who joined and was dropped at which step, how the run
 * ended, and the traffic: bytes the coordinator's connections sent and received per step.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { FILES, runExperiment, type RunOptions, type RunResult } from '../experiment/runner.ts';
import type { RunConfig } from '../experiment/config.ts';
import { RunInterrupted } from '../experiment/interrupt.ts';
import { methodAdapter } from '../experiment/method.ts';
import { timestampedDir } from '../experiment/outDir.ts';
import { ConfigError, describeValue } from '../errors.ts';
import { ReplicaError } from './errors.ts';
import { writeGroupMeta } from './groupMeta.ts';
import { checkGroupName, OPEN_GROUPS, ReplicaChannel } from './replicaChannel.ts';
import { COORDINATOR_RANK, ReplicaGroup, type GroupNote } from './replicaGroup.ts';
import { MAX_REPLICAS, type StopMessage } from './replicaProtocol.ts';
import { announcedMethod, replicatedWorkload } from './replicatedWorkload.ts';
import type { RedisTarget } from './redisTarget.ts';
import { bytesSince, type WireBytes } from './wireBytes.ts';

/** A member whose heartbeat is older than this is dropped (CLI --heartbeat-timeout). */
export const DEFAULT_HEARTBEAT_MS = 10_000;
/** How long the first step waits for every replica to join (CLI --join-timeout). */
export const DEFAULT_JOIN_TIMEOUT_MS = 300_000;
export const REPLICAS_LOG = 'replicas.jsonl';
/** How long a finished group's keys stay in Redis, for replicas that come late to learn it ended. */
const FINISHED_TTL_SECONDS = 24 * 3600;

export interface ReplicatedRunOptions extends Pick<RunOptions, 'resume' | 'extensions' | 'progress' | 'label'> {
  target: RedisTarget;
  /** members including the coordinator. */
  replicas: number;
  /** the group's name on Redis; default the run folder's name. */
  group?: string;
  heartbeatMs?: number;
  joinTimeoutMs?: number;
  /** test hook: awaited before each step is announced (a test holds the run there). */
  beforeStep?: (step: number) => Promise<void>;
}

export interface Traffic {
  steps: number;
  sent: number;
  received: number;
}

export interface ReplicatedRunResult extends RunResult {
  group: string;
  traffic: Traffic;
}

export function checkReplicaCount(replicas: number): number {
  if (!Number.isInteger(replicas) || replicas < 2 || replicas > MAX_REPLICAS) {
    throw new ConfigError(`--replicas must be an integer in [2, ${MAX_REPLICAS}] (the coordinator counts as one), got ${describeValue(replicas)}`);
  }
  return replicas;
}

export async function runReplicated(input: RunConfig, options: ReplicatedRunOptions): Promise<ReplicatedRunResult> {
  const replicas = checkReplicaCount(options.replicas);
  const adapter = methodAdapter(input.method);
  if (adapter.family !== 'zo') {
    throw new ConfigError(`--replicas needs a zeroth-order method (replicas share seeds and losses, not gradients), got ${input.method} (${adapter.family})`);
  }
  const out = input.out ?? timestampedDir(join('runs', `${input.method}-${input.task}`));
  const config: RunConfig = { ...input, out };
  const name = checkGroupName(options.group ?? basename(out), '--group');
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const joinTimeoutMs = options.joinTimeoutMs ?? DEFAULT_JOIN_TIMEOUT_MS;

  const channel = await ReplicaChannel.open(options.target, name);
  const { keys, commands } = channel;
  let lease: Awaited<ReturnType<ReplicaChannel['takeRank']>> = null;
  /** DIR/replicas.jsonl and, but for the traffic line, stderr. */
  const record = (note: GroupNote): void => {
    if (existsSync(out)) appendFileSync(join(out, REPLICAS_LOG), `${JSON.stringify({ ...note, at: new Date().toISOString() })}\n`);
    if (note.event !== 'traffic') process.stderr.write(`[replicas] ${describeNote(note)}\n`);
  };
  const traffic: Traffic = { steps: 0, sent: 0, received: 0 };
  let lastStep = 0;
  let outcome: { reason: StopMessage['reason']; message: string } = { reason: 'failed', message: 'the coordinator failed' };
  try {
    lease = await channel.takeRank(COORDINATOR_RANK, heartbeatMs);
    if (!lease) throw new ReplicaError(`group ${name} already has a live coordinator (rank 0 is taken); choose another --group, or stop that run first`);
    // a new session: nothing of an earlier one may be read as this one's
    await commands.del(keys.meta, keys.events);
    const group = new ReplicaGroup(channel, COORDINATOR_RANK, heartbeatMs, record, lease);
    let kernels = '';
    let started = false;
    let stepStart: WireBytes = channel.wireBytes();
    const beforeStep = async (step: number): Promise<void> => {
      await options.beforeStep?.(step);
      stepStart = channel.wireBytes();
      if (!started) {
        started = true;
        await rebuildLog(channel, join(out, FILES.zoLog));
        await writeGroupMeta(channel, { replicas, config: config as unknown as Record<string, unknown>, kernels, heartbeatMs, status: 'running' });
        await commands.sadd(OPEN_GROUPS, name);
        process.stderr.write(`[replicas] group ${name}: waiting for ${replicas - 1} replica(s): zolo replica --queue URL --group ${name}\n`);
        await group.admit(step, replicas, joinTimeoutMs);
      } else {
        await group.admit(step);
      }
      group.beginStep(step);
    };
    const afterStep = async (step: number, line: unknown): Promise<void> => {
      await commands.rpush(keys.log, JSON.stringify(line));
      const used = bytesSince(channel.wireBytes(), stepStart);
      traffic.steps++;
      traffic.sent += used.sent;
      traffic.received += used.received;
      lastStep = step + 1;
    };
    let result: RunResult;
    try {
      const { resume, extensions, progress, label } = options;
      result = await runExperiment(config, {
        resume,
        extensions,
        progress,
        label,
        decorate: {
          workload: (workload) => {
            const backend = workload.engine.backend;
            kernels = `${backend.name} ${backend.mode}`;
            return replicatedWorkload(workload, group, config.task);
          },
          method: (method) => announcedMethod(method, beforeStep, afterStep),
        },
      });
    } catch (error) {
      outcome = error instanceof RunInterrupted ? { reason: 'interrupted', message: error.message } : { reason: 'failed', message: (error as Error).message };
      throw error;
    }
    const { summary } = result;
    outcome = { reason: summary.status, message: summary.status === 'diverged' ? `diverged at step ${summary.divergedAtStep}` : `completed ${summary.steps} steps` };
    lastStep = summary.steps;
    return { ...result, group: name, traffic };
  } finally {
    if (lease) {
      await endGroup(channel, name, lastStep, outcome).catch(() => {});
      record({ event: 'stopped', step: lastStep, reason: outcome.reason, message: outcome.message });
      record({ event: 'traffic', ...traffic, sentPerStep: traffic.steps ? traffic.sent / traffic.steps : null, receivedPerStep: traffic.steps ? traffic.received / traffic.steps : null });
      await lease.release();
    }
    channel.close();
  }
}

/** The stop message, the meta marked finished, and the group's keys set to expire. */
async function endGroup(channel: ReplicaChannel, name: string, step: number, outcome: { reason: StopMessage['reason']; message: string }): Promise<void> {
  const { keys, commands } = channel;
  await channel.publish({ kind: 'stop', step, reason: outcome.reason, message: outcome.message });
  const meta = await commands.get(keys.meta);
  if (meta !== null) await commands.set(keys.meta, JSON.stringify({ ...JSON.parse(meta), status: 'finished' }));
  await commands.srem(OPEN_GROUPS, name);
  for (const key of [keys.meta, keys.events, keys.log]) await commands.expire(key, FINISHED_TTL_SECONDS);
}

/** The group's log made equal to the run's zo-log.jsonl (the runner has cut it back to the checkpoint). */
async function rebuildLog(channel: ReplicaChannel, zoLogPath: string): Promise<void> {
  await channel.commands.del(channel.keys.log);
  if (!existsSync(zoLogPath)) return;
  const lines = readFileSync(zoLogPath, 'utf8').split('\n').filter((line) => line.trim() !== '');
  for (let start = 0; start < lines.length; start += 1_000) await channel.commands.rpush(channel.keys.log, ...lines.slice(start, start + 1_000));
}

function describeNote(note: GroupNote): string {
  switch (note.event) {
    case 'joined':
      return `rank ${note.rank} joined at step ${note.step} (it caught up from step ${note.fromStep})`;
    case 'dropped':
      return `rank ${note.rank} dropped at step ${note.step} (${note.reason}); its rows go to ranks ${(note.remaining as number[]).join(', ')}`;
    case 'stopped':
      return `run ${note.reason} at step ${note.step}`;
    default:
      return JSON.stringify(note);
  }
}
