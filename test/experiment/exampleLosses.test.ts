/**
 * The property data-parallel replicas rest on: a workload's batch loss is the fold
 * (meanOfRowLosses) of its per-example losses, and an example's loss does not depend on which
 * other examples share its batch — so losses computed on slices of a batch, concatenated in order,
 * fold to the batch loss bit for bit. Checked on every backend that claims it (cpu, wasm).
 */
import { fc, test } from '@fast-check/vitest';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import '../../src/experiment/builtins.ts';
import { createWorkload, type Workload } from '../../src/experiment/workload.ts';
import type { Backend } from '../../src/kernels/backend.ts';
import { createBackend } from '../../src/kernels/registry.ts';
import { MemoryLedger } from '../../src/tensor/ledger.ts';
import { meanOfRowLosses } from '../../src/tensor/ops.ts';
import { Engine } from '../../src/tensor/tensor.ts';

const bits = (values: Float32Array): number[] => [...new Uint32Array(values.buffer, values.byteOffset, values.length)];

for (const [backendName, task, model, taskOptions, numRuns] of [
  ['cpu', 'synthetic-blobs', 'linear', {}, 60],
  ['wasm', 'synthetic-blobs', 'linear', {}, 60],
  ['cpu', 'spam', 'tiny', { seq: 24 }, 3],
  ['wasm', 'spam', 'tiny', { seq: 24 }, 3],
] as const) {
  describe(`${task} on ${backendName}: per-example losses`, () => {
    let backend: Backend;
    let workload: Workload;
    beforeAll(async () => {
      backend = await createBackend(backendName);
      workload = await createWorkload({ task, model, taskOptions, seed: 0, engine: new Engine(backend, new MemoryLedger()) });
    });
    afterAll(() => {
      workload?.dispose();
      backend?.dispose();
    });

    const batchAndCuts = fc.uniqueArray(fc.nat({ max: 199 }), { minLength: 1, maxLength: 12 }).chain((batch) =>
      fc.tuple(fc.constant(batch), fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, batch.length - 1) }), { maxLength: 3 })));

    test.prop([batchAndCuts], { seed: 31, numRuns })('fold to the batch loss, and slices of the batch give the same bits', async ([batch, cuts]) => {
      const whole = await workload.exampleLosses!(batch);
      expect(meanOfRowLosses(whole, null)).toBe(await workload.loss(batch));
      const edges = [0, ...cuts.filter((cut) => cut < batch.length).sort((a, b) => a - b), batch.length];
      const pieces: number[] = [];
      for (let i = 0; i + 1 < edges.length; i++) pieces.push(...bits(await workload.exampleLosses!(batch.slice(edges[i], edges[i + 1]))));
      expect(pieces).toEqual(bits(whole));
    });
  });
}
