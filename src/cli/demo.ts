import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import '../experiment/builtins.ts';
import { DEMO_SUITE_FILE, demoSuite } from '../experiment/demo.ts';
import { timestampedDir } from '../experiment/outDir.ts';
import { suiteProgress } from '../experiment/progress.ts';
import { headToHeadTable, verdictRule } from '../experiment/report.ts';
import { checkpointDir } from '../experiment/spamWorkload.ts';
import { readSuiteFile, runSuite } from '../experiment/suite.ts';

export function register(program: Command): void {
  program
    .command('demo')
    .description(commandDescription('demo'))
    .option('--out <dir>', 'output folder (default runs/demo-<timestamp>; never overwritten)')
    .action(async (options: { out?: string }) => {
      const { suite, skipped } = demoSuite(readSuiteFile(DEMO_SUITE_FILE));
      // fail before making any folder when the pretrained checkpoint is missing
      checkpointDir(String(suite.base.model ?? 'tiny'));
      if (skipped.length > 0) console.error(`demo: skipping methods not available in this build: ${skipped.join(', ')}`);
      const outcome = await runSuite(suite, { out: options.out ?? timestampedDir('runs/demo'), progress: suiteProgress() });
      console.log(`\n${verdictRule(outcome.results)}\n\n${headToHeadTable(outcome.results)}\n`);
      console.log(`report: ${outcome.reportPath}`);
      console.log(`plots:  ${outcome.plotPaths.join('\n        ')}`);
    });
}
