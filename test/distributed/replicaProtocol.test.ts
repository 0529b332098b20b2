import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { ReplicaError } from '../../src/distributed/errors.ts';
import { decodeLosses, encodeLosses, parseMessage } from '../../src/distributed/replicaProtocol.ts';

describe('replica messages', () => {
  test.prop([fc.float32Array({ noNaN: true, maxLength: 64 })], { seed: 18, numRuns: 200 })('carry float32 losses bit for bit in 4 bytes each (base64)', (values) => {
    const text = encodeLosses(values);
    expect(Buffer.from(text, 'base64').length).toBe(4 * values.length);
    const back = decodeLosses(text, 'test');
    expect(new Uint32Array(back.buffer)).toEqual(new Uint32Array(values.buffer, values.byteOffset, values.length));
  });

  it('parses what the protocol defines', () => {
    const losses = { kind: 'losses', step: 3, point: 1, rank: 2, start: 8, values: encodeLosses(Float32Array.of(0.5, 0.25)) };
    expect(parseMessage(JSON.stringify(losses), 'e')).toEqual(losses);
    expect(parseMessage('{"kind":"step","step":0,"members":[0,1]}', 'e')).toEqual({ kind: 'step', step: 0, members: [0, 1] });
  });

  it('rejects malformed or hostile entries, naming the field', () => {
    const bad = (value: unknown): (() => unknown) => () => parseMessage(typeof value === 'string' ? value : JSON.stringify(value), 'events 1-0');
    expect(bad('{not json')).toThrow(ReplicaError);
    expect(bad({ kind: 'exec', command: 'rm -rf /' })).toThrow(/events 1-0: malformed zolo-replica\/1 message at "kind"/);
    expect(bad({ kind: 'step', step: -1, members: [0] })).toThrow(/at "step"/);
    expect(bad({ kind: 'step', step: 1, members: [0], extra: true })).toThrow(/malformed/);
    expect(bad({ kind: 'losses', step: 1, point: 0, rank: 1, start: 0, values: 'not base64!' })).toThrow(/at "values"/);
    expect(() => decodeLosses('AAA=', 'losses')).toThrow('losses: values must hold whole float32s, got 2 bytes');
  });
});
