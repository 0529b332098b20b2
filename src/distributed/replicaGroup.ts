/**
 * One member's view of a data-parallel replica group: it files what arrives on the group's stream
 * and computes the training loss of a step's global batch together with the others.
 *
 * A loss evaluation (`batchLoss`): the member computes the per-example losses of its rows (shards.ts),
 * publishes them, and waits until every row of the batch is covered; then it folds the rows in batch
 * order with `meanOfRowLosses` — the fold the single-process loss uses — so every member gets the
 * single-process value bit for bit and takes the same ZO step. A row that arrives twice (after a
 * drop, say) must carry the same bits, else the members' kernels disagree and the run stops.
 *
 * Faults, the documented choice: a member that stops beating (heartbeat.ts) while the others wait
 * for its rows is dropped by the coordinator, and its rows are redistributed among the members that
 * remain — from the very evaluation that was waiting, so the run does not pause and its numbers do
 * not change. A member that comes back joins again at a later step after catching up from the log.
 * When the coordinator stops beating, or comes back as a new process, the members stop: only the
 * coordinator's checkpoints and log define the run.
 */
import { meanOfRowLosses } from '../tensor/ops.ts';
import type { Batch } from '../experiment/workload.ts';
import { ReplicaError } from './errors.ts';
import type { Lease } from './heartbeat.ts';
import type { ReplicaChannel } from './replicaChannel.ts';
import { decodeLosses, encodeLosses, type DropMessage, type JoinMessage, type LossesMessage, type ReplicaMessage, type StepMessage, type StopMessage } from './replicaProtocol.ts';
import { shardLayout, withoutRank, type RowRange } from './shards.ts';

export type GroupNote = Record<string, unknown> & { event: string };

export const COORDINATOR_RANK = 0;

export class ReplicaGroup {
  private readonly stepMembers = new Map<number, number[]>();
  private readonly drops: DropMessage[] = [];
  private readonly pending = new Map<string, LossesMessage[]>();
  /** coordinator: joins not yet admitted, by rank. */
  private readonly joins = new Map<number, JoinMessage>();
  /** replicas: step and stop messages in stream order. */
  private readonly controls: (StepMessage | StopMessage)[] = [];
  /** coordinator: the members the next step starts with. */
  private members: number[] = [COORDINATOR_RANK];
  private readonly dropRequested = new Set<string>();
  stopped: StopMessage | null = null;
  /** batch losses computed with the group: the run's training forward passes this member took part in. */
  evaluations = 0;
  private step = -1;
  private point = 0;
  /** how long a wait blocks before the heartbeats are looked at. */
  readonly pollMs: number;

  constructor(
    readonly channel: ReplicaChannel,
    readonly rank: number,
    readonly heartbeatMs: number,
    private readonly note: (event: GroupNote) => void,
    /** this member's rank lease: once another process holds it, this one must stop. */
    private readonly lease: Lease,
    /** replicas: the coordinator's lease token when they joined; another token means it restarted. */
    private readonly coordinatorToken: string | null = null,
  ) {
    this.pollMs = Math.max(20, Math.floor(heartbeatMs / 4));
  }

  get isCoordinator(): boolean {
    return this.rank === COORDINATOR_RANK;
  }

  /** Files what arrived on the stream, waiting up to `blockMs` for the first entry; returns how many arrived. */
  async pump(blockMs: number): Promise<number> {
    if (this.lease.lost) {
      throw new ReplicaError(`rank ${this.rank}'s lease was taken over by another process (this one went without a heartbeat for ${this.heartbeatMs} ms); it stops`);
    }
    const messages = await this.channel.read(blockMs);
    for (const message of messages) this.file(message);
    return messages.length;
  }

  private file(message: ReplicaMessage): void {
    switch (message.kind) {
      case 'step':
        this.stepMembers.set(message.step, message.members);
        if (!this.isCoordinator) this.controls.push(message);
        return;
      case 'stop':
        this.stopped = message;
        if (!this.isCoordinator) this.controls.push(message);
        return;
      case 'drop':
        this.drops.push(message);
        if (this.isCoordinator && this.members.includes(message.rank)) {
          this.members = this.members.filter((rank) => rank !== message.rank);
          this.note({ event: 'dropped', rank: message.rank, step: message.step, point: message.point, reason: message.reason, remaining: this.members });
        }
        return;
      case 'join':
        if (this.isCoordinator) this.joins.set(message.rank, message);
        return;
      case 'losses': {
        // our own rows are filed when computed; rows of finished steps are late duplicates
        if (message.rank === this.rank || message.step < this.step) return;
        const key = `${message.step}/${message.point}`;
        const list = this.pending.get(key);
        if (list) list.push(message);
        else this.pending.set(key, [message]);
      }
    }
  }

  /** Forgets what belongs to steps before `step` and starts counting its loss evaluations. */
  beginStep(step: number): void {
    this.step = step;
    this.point = 0;
    for (const [key, list] of this.pending) if (list[0]!.step < step) this.pending.delete(key);
    for (const key of this.stepMembers.keys()) if (key < step) this.stepMembers.delete(key);
    const kept = this.drops.filter((drop) => drop.step >= step);
    this.drops.length = 0;
    this.drops.push(...kept);
  }

  membersAt(step: number): readonly number[] | undefined {
    return this.stepMembers.get(step);
  }

  /** Who computes which rows of evaluation `point` of `step`: the step's members, less the drops up to that point. */
  layoutAt(step: number, point: number, batchSize: number): RowRange[] {
    const members = this.stepMembers.get(step);
    if (!members) throw new ReplicaError(`no member list for step ${step} (the coordinator announces every step before it runs)`);
    let remaining = members;
    let layout = shardLayout(batchSize, remaining);
    for (const drop of this.drops) {
      if (drop.step !== step || drop.point > point || !remaining.includes(drop.rank)) continue;
      layout = withoutRank(layout, remaining, drop.rank);
      remaining = remaining.filter((rank) => rank !== drop.rank);
    }
    return layout;
  }

  /**
   * The mean loss of `batch` at the current parameters, computed with the group: `compute` gives
   * the per-example losses of a slice of the batch (this member's rows).
   */
  async batchLoss(batch: Batch, compute: (rows: Batch) => Promise<Float32Array>): Promise<number> {
    const step = this.step;
    const point = this.point++;
    this.evaluations++;
    const size = batch.length;
    const rows = new Float32Array(size);
    const bits = new Uint32Array(rows.buffer);
    const covered = new Uint8Array(size);
    let missing = size;
    const accept = (start: number, values: Float32Array, from: number): void => {
      if (start + values.length > size) throw new ReplicaError(`rank ${from} sent rows ${start}–${start + values.length - 1} of step ${step}, whose batch has ${size} rows`);
      const incoming = new Uint32Array(values.buffer, values.byteOffset, values.length);
      for (let i = 0; i < values.length; i++) {
        const row = start + i;
        if (covered[row]) {
          if (bits[row] !== incoming[i]) {
            throw new ReplicaError(`step ${step}, evaluation ${point}: example ${row} has loss ${rows[row]} from one member and ${values[i]} from rank ${from}; the replicas' kernels disagree, so they cannot stay identical`);
          }
          continue;
        }
        bits[row] = incoming[i]!;
        covered[row] = 1;
        missing--;
      }
    };
    const computed = new Set<string>();
    const key = `${step}/${point}`;
    for (;;) {
      const dropped = this.drops.find((drop) => drop.rank === this.rank && drop.step === step && drop.point <= point);
      if (dropped) throw new ReplicaError(`rank ${this.rank} was dropped by the coordinator at step ${step} (${dropped.reason}); start \`zolo replica\` again to rejoin`);
      for (const range of this.layoutAt(step, point, size)) {
        const id = `${range.start}+${range.count}`;
        if (range.rank !== this.rank || computed.has(id)) continue;
        computed.add(id);
        const values = await compute(batch.slice(range.start, range.start + range.count));
        accept(range.start, values, this.rank);
        await this.channel.publish({ kind: 'losses', step, point, rank: this.rank, start: range.start, values: encodeLosses(values) });
      }
      for (const message of this.pending.get(key) ?? []) accept(message.start, decodeLosses(message.values, `losses of rank ${message.rank}`), message.rank);
      this.pending.delete(key);
      if (missing === 0) return meanOfRowLosses(rows, null);
      if (this.stopped) throw new ReplicaError(`the coordinator ended the run at step ${this.stopped.step} (${this.stopped.reason}): ${this.stopped.message}`);
      // heartbeats are looked at only after a wait in which nothing arrived: never on the hot path
      if ((await this.pump(this.pollMs)) === 0) await this.checkLiveness(step, point, size, covered);
    }
  }

  private async checkLiveness(step: number, point: number, size: number, covered: Uint8Array): Promise<void> {
    if (!this.isCoordinator) return this.checkCoordinator();
    const silent = new Set<number>();
    for (const range of this.layoutAt(step, point, size)) {
      if (range.rank === this.rank) continue;
      for (let row = range.start; row < range.start + range.count; row++) if (!covered[row]) silent.add(range.rank);
    }
    for (const rank of silent) {
      const request = `${step}/${rank}`;
      if (this.dropRequested.has(request)) continue;
      // a member that joined again is a new process: the old one's rows will never come
      const reason = this.joins.has(rank) ? 'it restarted and joined again' : (await this.channel.alive(rank)) ? null : `no heartbeat for ${this.heartbeatMs} ms`;
      if (reason === null) continue;
      this.dropRequested.add(request);
      await this.channel.publish({ kind: 'drop', step, point, rank, reason });
    }
  }

  /** Replicas: throws when the coordinator has stopped beating (without ending the run) or is another process now. */
  async checkCoordinator(): Promise<void> {
    const token = await this.channel.commands.get(this.channel.keys.heartbeat(COORDINATOR_RANK));
    if (token === null) {
      // a coordinator that ends the run publishes its stop before it gives up rank 0: one may have come in since the last read
      await this.pump(0);
      if (this.stopped) return;
      throw new ReplicaError(`the coordinator (rank 0) has had no heartbeat for ${this.heartbeatMs} ms; this replica stops. Resume the run with \`zolo run --resume DIR --replicas N --queue URL\`, then start the replicas again`);
    }
    if (this.coordinatorToken !== null && token !== this.coordinatorToken) {
      throw new ReplicaError('the coordinator restarted (a new process holds rank 0); this replica stops: start it again to join the new session');
    }
  }

  /**
   * Coordinator: announces step `step` with the members it runs with — the current ones plus every
   * replica that joined since and still beats. With `awaitCount`, first waits until that many
   * members are in (up to `timeoutMs`).
   */
  async admit(step: number, awaitCount = 0, timeoutMs = 0): Promise<readonly number[]> {
    const deadline = performance.now() + timeoutMs;
    await this.pump(0);
    for (;;) {
      for (const [rank, join] of this.joins) {
        this.joins.delete(rank);
        if (rank === COORDINATOR_RANK || !(await this.channel.alive(rank))) continue;
        if (!this.members.includes(rank)) this.members = [...this.members, rank].sort((a, b) => a - b);
        this.note({ event: 'joined', rank, step, fromStep: join.fromStep });
      }
      if (this.members.length >= awaitCount) break;
      if (performance.now() > deadline) {
        throw new ReplicaError(`only ${this.members.length} of ${awaitCount} members joined within ${Math.round(timeoutMs / 1000)} s; start the replicas with \`zolo replica --queue URL --group ${this.channel.name}\``);
      }
      await this.pump(this.pollMs);
    }
    const members = [...this.members];
    this.stepMembers.set(step, members);
    await this.channel.publish({ kind: 'step', step, members });
    return members;
  }

  /** Replicas: the next step or stop message; `idle` runs while none has arrived (catching up from the log). */
  async nextControl(idle: () => Promise<void>): Promise<StepMessage | StopMessage> {
    for (;;) {
      const next = this.controls.shift();
      if (next) return next;
      const arrived = await this.pump(this.pollMs);
      if (this.controls.length > 0) continue;
      await idle();
      if (arrived === 0) await this.checkCoordinator();
    }
  }

  /** Coordinator: tells every member the run is over. */
  async stop(step: number, reason: StopMessage['reason'], message: string): Promise<void> {
    await this.channel.publish({ kind: 'stop', step, reason, message });
  }
}
