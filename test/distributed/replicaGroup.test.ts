/** How a replica reads the coordinator's liveness, on a private redis-server. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplicaError } from '../../src/distributed/errors.ts';
import { ReplicaChannel } from '../../src/distributed/replicaChannel.ts';
import { ReplicaGroup } from '../../src/distributed/replicaGroup.ts';
import { startRedisServer, type RedisServer } from './redisServer.ts';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

const HEARTBEAT_MS = 1_000;

/** A replica (rank 1) of group `name` whose coordinator had lease token "t0" and is gone now. */
async function replicaOfGoneCoordinator(name: string): Promise<{ group: ReplicaGroup; channel: ReplicaChannel; release: () => Promise<void> }> {
  const channel = await ReplicaChannel.open({ url: redis.url }, name);
  const lease = (await channel.takeRank(1, HEARTBEAT_MS))!;
  const group = new ReplicaGroup(channel, 1, HEARTBEAT_MS, () => {}, lease, 't0');
  return { group, channel, release: () => lease.release() };
}

describe('a replica watching its coordinator', () => {
  it('takes a coordinator that ended the run (stop published, then rank 0 freed) for the end of the run, not a crash', async () => {
    const { group, channel, release } = await replicaOfGoneCoordinator('ended');
    try {
      // what the coordinator does at the end, while the replica is busy catching up and reads nothing
      await channel.publish({ kind: 'stop', step: 12, reason: 'completed', message: 'completed 12 steps' });
      await expect(group.checkCoordinator()).resolves.toBeUndefined();
      expect(group.stopped).toMatchObject({ kind: 'stop', step: 12, reason: 'completed' });
      await expect(group.nextControl(async () => {})).resolves.toMatchObject({ kind: 'stop', step: 12 });
    } finally {
      await release();
      channel.close();
    }
  });

  it('stops with a ReplicaError saying what to do when the coordinator vanished without a stop', async () => {
    const { group, channel, release } = await replicaOfGoneCoordinator('crashed');
    try {
      await expect(group.checkCoordinator()).rejects.toThrow(ReplicaError);
      await expect(group.checkCoordinator()).rejects.toThrow(/the coordinator \(rank 0\) has had no heartbeat for 1000 ms; this replica stops\. Resume the run with/);
    } finally {
      await release();
      channel.close();
    }
  });
});
