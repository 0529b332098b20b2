/**
 * What a replica group publishes about itself (`<prefix>:meta`) and the form of its log entries.
 * A replica builds its run from the meta's config, so the meta is validated like any run config
 * (the same schema, names and options) before anything is built from it, and each log entry is
 * validated before a replica replays it.
 */
import { hostname } from 'node:os';
import { z } from 'zod';
import type { LoggedStep } from '../zo/index.ts';
import { ReplicaError } from './errors.ts';
import type { ReplicaChannel } from './replicaChannel.ts';
import { MAX_REPLICAS, parseChecked, REPLICA_PROTOCOL } from './replicaProtocol.ts';

const groupMetaSchema = z.strictObject({
  protocol: z.literal(REPLICA_PROTOCOL),
  replicas: z.number().int().min(2).max(MAX_REPLICAS),
  /** the coordinator's run config; validated by parseRunConfig where it is used. */
  config: z.record(z.string(), z.unknown()),
  /** the coordinator's kernels, `<backend> <mode>` (mode names SIMD/FMA and threads): replicas must match. */
  kernels: z.string(),
  heartbeatMs: z.number().int().min(10),
  status: z.enum(['running', 'finished']),
  coordinator: z.strictObject({ host: z.string(), pid: z.number().int() }),
});

export type GroupMeta = z.infer<typeof groupMetaSchema>;

export async function readGroupMeta(channel: ReplicaChannel): Promise<GroupMeta | null> {
  const text = await channel.commands.get(channel.keys.meta);
  return text === null ? null : parseChecked(groupMetaSchema, text, channel.keys.meta, `${REPLICA_PROTOCOL} group description`);
}

export async function writeGroupMeta(channel: ReplicaChannel, meta: Omit<GroupMeta, 'protocol' | 'coordinator'>): Promise<void> {
  const full: GroupMeta = { protocol: REPLICA_PROTOCOL, ...meta, coordinator: { host: hostname(), pid: process.pid } };
  await channel.commands.set(channel.keys.meta, JSON.stringify(full));
}

const loggedStepSchema = z.looseObject({
  step: z.number().int().min(0),
  lr: z.number().finite().min(0),
  seeds: z.array(z.number().int().min(0)).min(1),
  projectedGradients: z.array(z.number().finite()).min(1),
  decision: z.string().optional(),
});

/** Step `step`'s log entry, checked: the fields a replay uses, nothing else. */
export function parseLogEntry(text: string, step: number, where: string): LoggedStep {
  const { step: logged, lr, seeds, projectedGradients, decision } = parseChecked(loggedStepSchema, text, `${where} entry ${step}`, 'zo-log step');
  if (logged !== step || seeds.length !== projectedGradients.length) {
    throw new ReplicaError(`${where}: entry ${step} holds step ${logged} with ${seeds.length} seeds and ${projectedGradients.length} projected gradients`);
  }
  return decision === undefined ? { step, lr, seeds, projectedGradients } : { step, lr, seeds, projectedGradients, decision };
}
