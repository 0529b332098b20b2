/**
 * `simulated-compute`: synthetic-blobs whose forward pass takes a set time — fixedMs plus
 * perExampleMs per example — spent waiting, not computing. Replicas in one process then run side by
 * side as if each had its own machine, so the protocol's cost can be measured for any number of
 * replicas on a 2-core box. The numbers it computes are synthetic-blobs' own.
 */
import { z } from 'zod';
import { createBlobsWorkload } from '../../src/experiment/synthetic.ts';
import { registerWorkload, type Batch, type Workload } from '../../src/experiment/workload.ts';

export const SIMULATED_TASK = 'simulated-compute';

const optionsSchema = z.strictObject({
  fixedMs: z.number().min(0).default(2),
  perExampleMs: z.number().min(0).default(1),
});

const wait = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

registerWorkload(
  SIMULATED_TASK,
  async (request): Promise<Workload> => {
    const { fixedMs, perExampleMs } = optionsSchema.parse(request.taskOptions);
    const inner = await createBlobsWorkload({ ...request, taskOptions: {} });
    const exampleLosses = inner.exampleLosses!.bind(inner);
    return {
      ...inner,
      async loss(batch: Batch) {
        await wait(fixedMs + perExampleMs * batch.length);
        return inner.loss(batch);
      },
      async exampleLosses(batch: Batch) {
        await wait(fixedMs + perExampleMs * batch.length);
        return exampleLosses(batch);
      },
    };
  },
  optionsSchema,
);
