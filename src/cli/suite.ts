import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import '../experiment/builtins.ts';
import { suiteProgress } from '../experiment/progress.ts';
import { headToHeadTable } from '../experiment/report.ts';
import { checkSuite, readSuiteFile, runSuite } from '../experiment/suite.ts';

export function register(program: Command): void {
  program
    .command('suite <file>')
    .description(commandDescription('suite'))
    .option('--out <dir>', 'suite output folder (default: the suite\'s "out", else runs/<name>-<timestamp>)')
    .option('--resume', 'continue the suite in --out (or its "out"): skip finished runs, resume interrupted ones')
    .option('--force', 'overwrite a non-empty output folder')
    .option('--check', 'validate the suite file and every expanded run, print the plan, run nothing')
    .action(async (file: string, options: { out?: string; resume?: boolean; force?: boolean; check?: boolean }) => {
      const suite = readSuiteFile(file);
      if (options.check) {
        const plan = checkSuite(suite, options.out ?? suite.out ?? `runs/${suite.name}`);
        for (const run of plan) console.log(`${run.id}  ${run.config.method}  steps ${run.config.steps}  seed ${run.seed}`);
        console.log(`${file}: valid, ${plan.length} runs`);
        return;
      }
      const outcome = await runSuite(suite, {
        ...(options.out ? { out: options.out } : {}),
        resume: options.resume ?? false,
        force: options.force ?? false,
        progress: suiteProgress(),
      });
      console.log(headToHeadTable(outcome.results));
      console.log(`\n${outcome.ran} runs run, ${outcome.skipped} already finished`);
      console.log(`report: ${outcome.reportPath}`);
      console.log(`plots:  ${outcome.plotPaths.join('\n        ')}`);
      console.log(`results: ${outcome.dir}/results.json`);
    });
}
