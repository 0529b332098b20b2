import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Plug-ins (examples/) import zolo by name; in tests that name is the source the tests run, as the
  // CLI pins it to its running copy before importing a plug-in (src/experiment/plugins.ts).
  resolve: { alias: [{ find: /^zolo$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) }] },
  test: {
    include: ['test/**/*.test.ts'],
    // Property tests and small training runs are CPU-bound; two workers match the 2-core target machine.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The JSON report lets .ci/run print a one-line "N passed, N failed" summary.
    reporters: ['default', 'json'],
    outputFile: { json: 'node_modules/.cache/zolo/vitest-results.json' },
  },
});
