/**
 * `zolo replica --queue URL`: one member (rank ≥ 1) of a data-parallel replica group. It reads the
 * group's run config from Redis (validated like any run config), builds the same model, and then
 * follows the coordinator step by step: for each announced step it computes its rows' losses with
 * the group and takes the same ZO step, so its parameters stay equal to the coordinator's without
 * any weight ever crossing the network.
 *
 * Joining late, or again after a restart: the replica starts from its own last checkpoint (DIR/
 * checkpoint.safetensors, written every `checkpointEvery` steps and at the end) or else from the
 * model's starting weights, and replays the group's log — seeds and projected gradients, no forward
 * pass — up to the step it is admitted at. Its parameters then equal the others' bit for bit.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BatchSampler } from '../data/batching.ts';
import { readCheckpoint, writeCheckpoint } from '../experiment/checkpoint.ts';
import { checkNames, checkTrainableAllowed, parseRunConfig, type RunConfig } from '../experiment/config.ts';
import { methodAdapter, type TrainingMethod } from '../experiment/method.ts';
import { loadPlugins } from '../experiment/plugins.ts';
import { silentProgress, type RunProgress } from '../experiment/progress.ts';
import { learningRateAt } from '../experiment/schedule.ts';
import { knownNames } from '../experiment/suite.ts';
import { applyTrainable } from '../experiment/trainable.ts';
import { createWorkload, saveParams, type Workload } from '../experiment/workload.ts';
import { ConfigError } from '../errors.ts';
import { createBackend } from '../kernels/registry.ts';
import type { Backend } from '../kernels/backend.ts';
import type { SafetensorsEntry } from '../nn/safetensors.ts';
import { MemoryLedger } from '../tensor/ledger.ts';
import { Engine } from '../tensor/tensor.ts';
import { checkPluginsAllowed } from './allowedPlugins.ts';
import { ReplicaError } from './errors.ts';
import { parseLogEntry, readGroupMeta, type GroupMeta } from './groupMeta.ts';
import type { Lease } from './heartbeat.ts';
import { OPEN_GROUPS, ReplicaChannel, checkGroupName, groupKeys } from './replicaChannel.ts';
import { COORDINATOR_RANK, ReplicaGroup } from './replicaGroup.ts';
import type { StopMessage } from './replicaProtocol.ts';
import { replicatedWorkload } from './replicatedWorkload.ts';
import { openRedis } from './redisConnection.ts';
import type { RedisTarget } from './redisTarget.ts';
import type { Traffic } from './replicatedRun.ts';

export const REPLICA_CHECKPOINT = 'checkpoint.safetensors';
export const REPLICA_MODEL = 'model.safetensors';
/** How long a replica waits for a coordinator to appear (CLI --wait). */
export const DEFAULT_WAIT_MS = 300_000;
/** Log entries replayed per idle turn, so an admission is noticed between chunks. */
const CATCH_UP_CHUNK = 64;
const META_POLL_MS = 250;

export interface ReplicaOptions {
  target: RedisTarget;
  /** the group to join; default the only group whose coordinator is running. */
  group?: string;
  /** default: the first free rank. */
  rank?: number;
  /** the replica's own folder (checkpoints, final parameters); default runs/replica-<group>-r<rank>. */
  out?: string;
  /** plug-in modules the group's config may name. */
  plugins?: string[];
  waitMs?: number;
  progress?: RunProgress;
  /** test hook: called after each step this replica took part in; throwing simulates a crash there. */
  afterStep?: (step: number) => void;
}

export interface ReplicaResult {
  group: string;
  rank: number;
  dir: string;
  /** steps of the run this replica's parameters have taken. */
  step: number;
  /** steps it caught up on by replaying the log. */
  replayed: number;
  stop: StopMessage;
  traffic: Traffic;
}

/**
 * The group to join: the one named, else the only group whose coordinator is running, waiting up
 * to `waitMs` for one to open (a replica may be started before its coordinator).
 */
async function chooseGroup(target: RedisTarget, group: string | undefined, waitMs: number): Promise<string> {
  if (group !== undefined) return checkGroupName(group);
  const client = await openRedis(target);
  const deadline = performance.now() + waitMs;
  try {
    for (;;) {
      const open: string[] = [];
      // a coordinator killed outright leaves its name behind: only groups whose rank 0 still beats count
      for (const candidate of (await client.smembers(OPEN_GROUPS)).sort()) {
        if ((await client.exists(groupKeys(checkGroupName(candidate, OPEN_GROUPS)).heartbeat(COORDINATOR_RANK))) === 1) open.push(candidate);
      }
      if (open.length === 1) return open[0]!;
      if (open.length > 1) throw new ConfigError(`--group must name one of the running groups: ${open.join(', ')}`);
      if (performance.now() > deadline) {
        throw new ConfigError(`--group: no replica group opened on this Redis within ${Math.round(waitMs / 1000)} s; start \`zolo run --replicas N --queue URL\`, or name the group`);
      }
      await new Promise((resolve) => setTimeout(resolve, META_POLL_MS));
    }
  } finally {
    client.disconnect();
  }
}

/** Waits until the group has a running coordinator; returns its meta and lease token. */
async function awaitCoordinator(channel: ReplicaChannel, waitMs: number): Promise<{ meta: GroupMeta; token: string }> {
  const deadline = performance.now() + waitMs;
  for (;;) {
    const meta = await readGroupMeta(channel);
    if (meta?.status === 'finished') throw new ReplicaError(`group ${channel.name} has finished; there is nothing to join`);
    const token = await channel.commands.get(channel.keys.heartbeat(COORDINATOR_RANK));
    if (meta && token !== null) return { meta, token };
    if (performance.now() > deadline) throw new ReplicaError(`group ${channel.name} has no running coordinator after ${Math.round(waitMs / 1000)} s; start it with \`zolo run --replicas N --queue URL --group ${channel.name}\``);
    await new Promise((resolve) => setTimeout(resolve, META_POLL_MS));
  }
}

function groupConfig(meta: GroupMeta, allowedPlugins: readonly string[]): RunConfig {
  const config = parseRunConfig(meta.config, 'group config');
  checkPluginsAllowed(config.plugins, allowedPlugins, 'group config');
  return config;
}

async function claimRank(channel: ReplicaChannel, meta: GroupMeta, wanted: number | undefined): Promise<{ rank: number; lease: Lease }> {
  if (wanted !== undefined) {
    if (!Number.isInteger(wanted) || wanted < 1 || wanted >= meta.replicas) throw new ConfigError(`--rank must be an integer in [1, ${meta.replicas - 1}] for a group of ${meta.replicas}, got ${wanted}`);
    const lease = await channel.takeRank(wanted, meta.heartbeatMs);
    if (!lease) throw new ReplicaError(`rank ${wanted} of group ${channel.name} is held by a live replica; choose another --rank or leave it out`);
    return { rank: wanted, lease };
  }
  for (let rank = 1; rank < meta.replicas; rank++) {
    const lease = await channel.takeRank(rank, meta.heartbeatMs);
    if (lease) return { rank, lease };
  }
  throw new ReplicaError(`all ${meta.replicas - 1} replica ranks of group ${channel.name} are held by live replicas`);
}

interface ReplicaState {
  step: number;
}

function loadReplicaCheckpoint(path: string, name: string, workload: Workload, method: TrainingMethod, logLength: number): number {
  if (!existsSync(path)) return 0;
  const { tensors, state } = readCheckpoint(path);
  const saved = state as { group?: string; step?: number; method?: unknown };
  // a checkpoint of another group, or from beyond what the run's log holds (the coordinator went back to an earlier checkpoint), is not this run's past
  if (saved.group !== name || typeof saved.step !== 'number' || saved.step > logLength) return 0;
  const params = new Map<string, Float32Array>();
  const methodTensors: Record<string, Float32Array> = {};
  for (const [key, entry] of tensors) {
    if (key.startsWith('param/')) params.set(key.slice('param/'.length), entry.data);
    else if (key.startsWith('state/')) methodTensors[key.slice('state/'.length)] = entry.data;
  }
  workload.params.load(params);
  method.loadState({ json: saved.method, tensors: methodTensors });
  return saved.step;
}

async function saveReplicaCheckpoint(path: string, name: string, rank: number, state: ReplicaState, workload: Workload, method: TrainingMethod): Promise<void> {
  const methodState = await method.saveState();
  const values = await workload.params.snapshot();
  const tensors = new Map<string, SafetensorsEntry>();
  for (const param of workload.params.all()) tensors.set(`param/${param.name}`, { shape: [...param.tensor.shape], data: values.get(param.name)! });
  for (const [key, data] of Object.entries(methodState.tensors)) tensors.set(`state/${key}`, { shape: [data.length], data });
  writeCheckpoint(path, { tensors, state: { group: name, rank, step: state.step, method: methodState.json } });
}

export async function runReplica(options: ReplicaOptions): Promise<ReplicaResult> {
  const progress = options.progress ?? silentProgress;
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  const name = await chooseGroup(options.target, options.group, waitMs);
  const channel = await ReplicaChannel.open(options.target, name);
  let lease: Lease | null = null;
  let backend: Backend | null = null;
  let workload: Workload | null = null;
  let method: TrainingMethod | null = null;
  try {
    const { meta, token } = await awaitCoordinator(channel, waitMs);
    const config = groupConfig(meta, options.plugins ?? []);
    await loadPlugins(config.plugins, 'group config.plugins');
    checkNames(config, knownNames(), 'group config');
    const adapter = methodAdapter(config.method);
    checkTrainableAllowed(config, adapter.choosesTrainable === true, 'group config');
    backend = await createBackend(config.backend);
    const kernels = `${backend.name} ${backend.mode}`;
    if (kernels !== meta.kernels) {
      throw new ReplicaError(`this replica's kernels are "${kernels}", the group's are "${meta.kernels}"; replicas stay identical only on the same backend, mode and thread count (set ZOLO_THREADS, or --backend cpu on every member)`);
    }
    const claimed = await claimRank(channel, meta, options.rank);
    lease = claimed.lease;
    const { rank } = claimed;
    const dir = options.out ?? join('runs', `replica-${name}-r${rank}`);
    mkdirSync(dir, { recursive: true });
    const note = (event: Record<string, unknown>): void => {
      process.stderr.write(`[replica ${rank}] ${JSON.stringify(event)}\n`);
    };
    const group = new ReplicaGroup(channel, rank, meta.heartbeatMs, note, lease, token);
    const engine = new Engine(backend, new MemoryLedger());
    workload = await createWorkload({ task: config.task, model: config.model, taskOptions: config.taskOptions, seed: config.seed, engine });
    if (config.trainable !== null) applyTrainable(workload.params, config.trainable);
    const lr = config.lr ?? adapter.defaultLr;
    method = await adapter.create({
      workload: replicatedWorkload(workload, group, config.task), options: config.options, lr, weightDecay: config.weightDecay,
      seed: config.seed, steps: config.steps, batchSize: config.batchSize,
    });
    const follow = method.followLogged?.bind(method);
    if (!follow) throw new ConfigError(`method ${config.method} cannot replay logged steps, so a replica cannot catch up`);

    const checkpointPath = join(dir, REPLICA_CHECKPOINT);
    const state: ReplicaState = { step: loadReplicaCheckpoint(checkpointPath, name, workload, method, await channel.commands.llen(channel.keys.log)) };
    const startStep = state.step;
    let replayed = 0;
    const catchUp = async (until: number): Promise<void> => {
      while (state.step < until) {
        const last = Math.min(until, state.step + CATCH_UP_CHUNK) - 1;
        const entries = await channel.commands.lrange(channel.keys.log, state.step, last);
        if (entries.length < last - state.step + 1) throw new ReplicaError(`the group's log ends at step ${state.step + entries.length}, but step ${until} was announced`);
        for (const entry of entries) {
          await follow(parseLogEntry(entry, state.step, channel.keys.log));
          state.step++;
          replayed++;
        }
      }
    };
    const before = channel.wireBytes();
    channel.cursor = await channel.publish({ kind: 'join', rank, fromStep: state.step });
    const sampler = new BatchSampler(workload.trainSize, config.batchSize, config.seed);
    progress.start(`replica ${rank} of ${name}`, config.steps, state.step);
    let stepsTaken = 0;
    let stop: StopMessage;
    for (;;) {
      const control = await group.nextControl(async () => {
        // while waiting to be admitted, replay what the log already holds
        const logged = await channel.commands.llen(channel.keys.log);
        if (logged > state.step) await catchUp(Math.min(logged, state.step + CATCH_UP_CHUNK));
      });
      if (control.kind === 'stop') {
        stop = control;
        break;
      }
      if (!control.members.includes(rank)) continue;
      if (state.step > control.step) {
        throw new ReplicaError(`the group announced step ${control.step}, but this replica is at step ${state.step} (its checkpoint is newer than the run's); delete ${checkpointPath} and start it again`);
      }
      await catchUp(control.step);
      group.beginStep(state.step);
      const result = await method.step(sampler.indicesAt(state.step), { step: state.step, lr: learningRateAt(config, lr, state.step, config.steps) });
      // a diverged step changed nothing; the coordinator ends the run
      if (!Number.isFinite(result.loss)) continue;
      state.step++;
      stepsTaken++;
      progress.step(state.step, { loss: result.loss, forwardPasses: group.evaluations });
      if (config.checkpointEvery > 0 && state.step % config.checkpointEvery === 0) await saveReplicaCheckpoint(checkpointPath, name, rank, state, workload, method);
      options.afterStep?.(state.step);
    }
    // the final state can still be behind the run's end (admitted late, or never): the log brings it up
    await catchUp(Math.min(stop.step, await channel.commands.llen(channel.keys.log)));
    await saveReplicaCheckpoint(checkpointPath, name, rank, state, workload, method);
    await saveParams(join(dir, REPLICA_MODEL), workload.params, { 'zolo.task': config.task, 'zolo.model': config.model, 'zolo.group': name });
    const used = channel.wireBytes();
    progress.stop(`run ${stop.reason} at step ${stop.step}; this replica: ${stepsTaken} steps taken, ${replayed} replayed from step ${startStep}`);
    return { group: name, rank, dir, step: state.step, replayed, stop, traffic: { steps: stepsTaken, sent: used.sent - before.sent, received: used.received - before.received } };
  } finally {
    method?.dispose();
    workload?.dispose();
    backend?.dispose();
    await lease?.release();
    channel.close();
  }
}
