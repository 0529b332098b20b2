/**
 * Trajectory replay (MeZO §2.1) and checkpoint resume: both must reproduce a cpu run bit for bit,
 * because they re-run the same in-place float32 arithmetic with the same scalars.
 */
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../src/errors.ts';
import { NOISE_FORMAT_VERSION } from '../../src/kernels/noiseStreams.ts';
import type { ParamStore } from '../../src/tensor/index.ts';
import {
  createEstimator, parseZoLog, replayZo, zoLogHeader, zoLogStep, type Overrides,
} from '../../src/zo/index.ts';
import { ZO_LOG_VERSION } from '../../src/zo/replay.ts';
import { diagonalQuadratic, fixtureValues, makeStore } from './quadratic.ts';

function store(): ParamStore {
  return makeStore([
    { name: 'embed', shape: [5, 3], values: fixtureValues(15, 71) },
    { name: 'frozen', shape: [3], values: fixtureValues(3, 72), trainable: false },
    { name: 'w', shape: [3, 4], values: fixtureValues(12, 73) },
    { name: 'b', shape: [4], values: fixtureValues(4, 74) },
  ]);
}

const problem = diagonalQuadratic(fixtureValues(31, 75).map((x) => 1.5 + x), fixtureValues(31, 76));

async function snapshotBytes(params: ParamStore): Promise<Buffer> {
  const parts = [...(await params.snapshot()).values()].map((values) => Buffer.from(values.buffer, values.byteOffset, values.byteLength));
  return Buffer.concat(parts);
}

const CASES: [string, Overrides][] = [
  ['mezo', { lr: 0.01, weightDecay: 0.1 }],
  ['mezo', { lr: 0.01, queries: 3 }],
  ['mezo-sphere', { lr: 0.01 }],
  ['mezo-rademacher', { lr: 0.01 }],
  ['zo-sgd-one-sided', { lr: 0.01 }],
  ['zo-sgd-sign', { lr: 0.001 }],
  ['zo-sgd-mmt', { lr: 0.005, weightDecay: 0.1 }],
  ['zo-sgd-cons', { lr: 0.05 }],
  ['zo-adam', { lr: 0.01 }],
  ['lozo', { lr: 0.01, rank: 2, interval: 3 }],
  ['lozo-m', { lr: 0.01, rank: 2, interval: 3, weightDecay: 0.1 }],
  ['adazeta', { lr: 0.01, stepsPerEpoch: 3, totalEpochs: 4, queryTarget: 4, maxQueries: 3 }],
];

describe('replayZo', () => {
  for (const [method, overrides] of CASES) {
    it(`${method} ${JSON.stringify(overrides)}: rebuilds the final parameters bit for bit without a forward pass`, async () => {
      const trained = store();
      const start = await trained.snapshot();
      const estimator = createEstimator(method, { eps: 1e-2, ...overrides });
      let state = estimator.init(trained, { seed: 2024 });
      const lines = [JSON.stringify(zoLogHeader(estimator, state, { start: 'start.safetensors' }))];
      for (let t = 0; t < 12; t++) {
        const result = await estimator.step(state, { loss: problem.loss, lr: (overrides.lr as number) * (1 - t / 24) });
        state = result.state;
        lines.push(JSON.stringify(zoLogStep(result.record)));
      }
      estimator.dispose(state);

      const replayed = store();
      replayed.load(start);
      const log = parseZoLog(lines.join('\n'));
      expect(log.header.start).toBe('start.safetensors');
      expect(await replayZo(replayed, log)).toEqual({ steps: 12 });
      expect(Buffer.compare(await snapshotBytes(replayed), await snapshotBytes(trained))).toBe(0);
    });
  }

  it('accepts the header inside the step-0 line, and rejects a store that does not match the log', async () => {
    const trained = store();
    const start = await trained.snapshot();
    const estimator = createEstimator('mezo', { lr: 0.01 });
    let state = estimator.init(trained, { seed: 5 });
    const header = zoLogHeader(estimator, state);
    const lines: string[] = [];
    for (let t = 0; t < 3; t++) {
      const result = await estimator.step(state, { loss: problem.loss });
      state = result.state;
      lines.push(JSON.stringify(t === 0 ? { ...zoLogStep(result.record), header } : zoLogStep(result.record)));
    }
    const replayed = store();
    replayed.load(start);
    await replayZo(replayed, parseZoLog(lines.join('\n')));
    expect(Buffer.compare(await snapshotBytes(replayed), await snapshotBytes(trained))).toBe(0);

    const other = makeStore([{ name: 'w', shape: [3, 4], values: fixtureValues(12, 1) }]);
    await expect(replayZo(other, parseZoLog(lines.join('\n')))).rejects.toThrow(FormatError);
    const { header: _dropped, ...withoutHeader } = JSON.parse(lines[0]!);
    expect(() => parseZoLog(JSON.stringify(withoutHeader))).toThrow(/no header/);
    expect(parseZoLog(JSON.stringify(withoutHeader), 'log', header).steps).toHaveLength(1);
    expect(() => parseZoLog(`${lines[0]}\n${lines[2]}`)).toThrow(/expected step 1, got 2/);
  });

  it('records the noise format, and refuses a log of the retired noise format with what to do', () => {
    const estimator = createEstimator('mezo', { lr: 0.01 });
    const state = estimator.init(store(), { seed: 5 });
    const header = zoLogHeader(estimator, state);
    expect(header).toMatchObject({ version: ZO_LOG_VERSION, noise: NOISE_FORMAT_VERSION });
    expect(parseZoLog(JSON.stringify(header)).header.noise).toBe(NOISE_FORMAT_VERSION);
    // a version-1 header as the previous zolo wrote it: no `noise` field
    const { noise: _noise, ...fields } = header;
    const old = JSON.stringify({ ...fields, version: 1 });
    expect(() => parseZoLog(old, 'runs/a/zo-log.jsonl')).toThrow(FormatError);
    expect(() => parseZoLog(old, 'runs/a/zo-log.jsonl')).toThrow(
      `runs/a/zo-log.jsonl:1: the log was written with noise format 1, this zolo regenerates noise with format ${NOISE_FORMAT_VERSION}`,
    );
    expect(() => parseZoLog(old)).toThrow(/cannot be replayed\. Replay it with the zolo version that wrote it, or re-run the training/);
    expect(() => parseZoLog(JSON.stringify({ ...header, noise: 1 }))).toThrow(/noise format 1/);
    expect(() => parseZoLog(JSON.stringify({ ...header, version: 3 }))).toThrow(/header version 3 is not supported/);
    estimator.dispose(state);
  });
});

describe('estimator save/load (resume)', () => {
  for (const [method, overrides] of [
    ['mezo', { lr: 0.01 }],
    ['zo-adam', { lr: 0.01 }],
    ['zo-sgd-mmt', { lr: 0.005 }],
    ['lozo-m', { lr: 0.01, rank: 2, interval: 3 }],
  ] as [string, Overrides][]) {
    it(`${method}: stopping after 3 steps and resuming from the saved state ends bit-identical`, async () => {
      const straight = store();
      const start = await straight.snapshot();
      const estimator = createEstimator(method, { eps: 1e-2, ...overrides });
      let state = estimator.init(straight, { seed: 8 });
      for (let t = 0; t < 7; t++) state = (await estimator.step(state, { loss: problem.loss })).state;

      const first = store();
      first.load(start);
      let partial = estimator.init(first, { seed: 8 });
      for (let t = 0; t < 3; t++) partial = (await estimator.step(partial, { loss: problem.loss })).state;
      const saved = JSON.parse(JSON.stringify({ ...(await estimator.save(partial)), tensors: {} }));
      const tensors = (await estimator.save(partial)).tensors;

      const resumed = store();
      resumed.load(await first.snapshot());
      let continued = estimator.load(estimator.init(resumed, { seed: 8 }), { json: saved.json, tensors });
      for (let t = 3; t < 7; t++) continued = (await estimator.step(continued, { loss: problem.loss })).state;
      expect(continued.step).toBe(7);
      expect(Buffer.compare(await snapshotBytes(resumed), await snapshotBytes(straight))).toBe(0);
    });
  }
});
