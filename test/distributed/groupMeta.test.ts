/** A replica group's log entries are validated before a replica replays them. */
import { describe, expect, it } from 'vitest';
import { ReplicaError } from '../../src/distributed/errors.ts';
import { parseLogEntry } from '../../src/distributed/groupMeta.ts';

describe('group log entries', () => {
  const entry = { step: 4, lr: 0.01, seeds: [11, 12], projectedGradients: [0.5, -0.25], loss: 0.7 };

  it('give the fields a replay uses', () => {
    expect(parseLogEntry(JSON.stringify(entry), 4, 'log')).toEqual({ step: 4, lr: 0.01, seeds: [11, 12], projectedGradients: [0.5, -0.25] });
  });

  it('are refused, naming the entry and the field, when malformed or out of place', () => {
    const bad = (value: unknown, step = 4): (() => unknown) => () => parseLogEntry(typeof value === 'string' ? value : JSON.stringify(value), step, 'log');
    expect(bad('{')).toThrow(ReplicaError);
    expect(bad('{')).toThrow(/^log entry 4: not JSON/);
    expect(bad({ ...entry, seeds: [-1, 12] })).toThrow('log entry 4: malformed zo-log step at "seeds.0"');
    expect(bad({ ...entry, projectedGradients: [0.5, null] })).toThrow(/at "projectedGradients\.1"/);
    expect(bad({ ...entry, lr: undefined })).toThrow(/at "lr"/);
    expect(bad(entry, 5)).toThrow('log: entry 5 holds step 4 with 2 seeds and 2 projected gradients');
    expect(bad({ ...entry, seeds: [11] })).toThrow('log: entry 4 holds step 4 with 1 seeds and 2 projected gradients');
  });
});
