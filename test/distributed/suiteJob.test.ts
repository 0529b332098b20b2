import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/experiment/builtins.ts';
import { knownNames } from '../../src/experiment/suite.ts';
import { parseSuite, planSuite } from '../../src/experiment/suiteConfig.ts';
import { JobRejected } from '../../src/distributed/errors.ts';
import { acceptSuiteJob, MAX_JOB_BYTES, suiteJob, SUITE_JOB_FORMAT } from '../../src/distributed/suiteJob.ts';

const root = mkdtempSync(join(tmpdir(), 'zolo-job-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const hostilePlugin = resolve('test/fixtures/plugins/hostileMarker.ts');

const plan = planSuite(parseSuite({ name: 's', base: { task: 'synthetic-blobs', model: 'linear', backend: 'cpu', steps: 3 }, runs: [{ label: 'MeZO', method: 'mezo' }] }), 'x', knownNames());
const good = suiteJob('s', plan[0]!);

describe('suite jobs', () => {
  it('carry the planned config without its output folder, and validate back to it', async () => {
    expect(good.config).not.toHaveProperty('out');
    const { job, config } = await acceptSuiteJob(JSON.parse(JSON.stringify(good)), []);
    expect(job.runId).toBe('mezo-s0');
    expect({ ...config, out: plan[0]!.config.out }).toEqual(plan[0]!.config);
  });

  it('reject malformed and hostile jobs with a named error, running nothing', async () => {
    const marker = join(root, 'imported');
    process.env.ZOLO_TEST_HOSTILE_MARKER = marker;
    const reject = (data: unknown) => expect(acceptSuiteJob(data, [])).rejects;
    try {
      await reject(null).toThrow(JobRejected);
      await reject({ ...good, format: 'other' }).toThrow(`job is not a ${SUITE_JOB_FORMAT} job: field "format"`);
      await reject({ ...good, exec: 'rm -rf /' }).toThrow(/job is not a zolo-suite-job\/1 job/);
      await reject({ ...good, runId: '../../etc' }).toThrow(/field "runId"/);
      await reject({ ...good, config: { ...good.config, out: '/etc' } }).toThrow('job mezo-s0: config.out is chosen by the worker, got "/etc"');
      await reject({ ...good, config: { ...good.config, steps: -2 } }).toThrow('job mezo-s0: config.steps must be an integer ≥ 0');
      await reject({ ...good, config: { ...good.config, method: 'mezzo' } }).toThrow('job mezo-s0: config.method must be one of');
      await reject({ ...good, config: { ...good.config, options: { eps: -1 } } }).toThrow('job mezo-s0: config: estimator.eps must be');
      await reject({ ...good, config: { ...good.config, plugins: [hostilePlugin] } }).toThrow(`job mezo-s0: config.plugins names ${hostilePlugin}, which this process was not started with`);
      await reject({ ...good, label: 'x'.repeat(MAX_JOB_BYTES) }).toThrow(`a suite job is at most ${MAX_JOB_BYTES}`);
      expect(existsSync(marker)).toBe(false);
      // an allowed plug-in is imported
      await acceptSuiteJob({ ...good, config: { ...good.config, plugins: [hostilePlugin] } }, [hostilePlugin]);
      expect(existsSync(marker)).toBe(true);
    } finally {
      delete process.env.ZOLO_TEST_HOSTILE_MARKER;
    }
  });
});
