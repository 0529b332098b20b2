import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import '../experiment/builtins.ts';
import { suiteProgress } from '../experiment/progress.ts';
import { headToHeadTable, verdictRule } from '../experiment/report.ts';
import { RunInterrupted } from '../experiment/interrupt.ts';
import { checkSuite, loadSuitePlugins, readSuiteFile, runSuite, suiteOutDir } from '../experiment/suite.ts';

export function register(program: Command): void {
  program
    .command('suite <file>')
    .description(commandDescription('suite'))
    .option('--out <dir>', 'suite output folder (default: a fresh runs/<name>-<timestamp>)')
    .option('--update-results', 'regenerate the suite\'s committed results: write into its "out", replacing them')
    .option('--resume', 'continue the suite in --out (or, with --update-results, its "out"): skip finished runs, resume interrupted ones; runs the file adds (a grid extended, seeds added) join, a started run whose entry changed is refused')
    .option('--force', 'overwrite a non-empty output folder')
    .option('--check', 'validate the suite file and every expanded run, print the plan, run nothing')
    .action(async (file: string, options: { out?: string; updateResults?: boolean; resume?: boolean; force?: boolean; check?: boolean }) => {
      const suite = readSuiteFile(file);
      if (options.check) {
        await loadSuitePlugins(suite);
        const plan = checkSuite(suite, options.out ?? (options.updateResults && suite.out !== null ? suite.out : `runs/${suite.name}`));
        for (const run of plan) console.log(`${run.id}  ${run.config.method}  steps ${run.config.steps}  seed ${run.seed}`);
        console.log(`${file}: valid, ${plan.length} runs`);
        return;
      }
      const out = options.out ?? (options.updateResults ? undefined : suiteOutDir(suite, { resume: options.resume ?? false }));
      let outcome: Awaited<ReturnType<typeof runSuite>>;
      try {
        outcome = await runSuite(suite, {
          ...(out ? { out } : {}),
          updateResults: options.updateResults ?? false,
          resume: options.resume ?? false,
          file,
          force: options.force ?? false,
          progress: suiteProgress(),
        });
      } catch (error) {
        if (!(error instanceof RunInterrupted)) throw error;
        const resume = `zolo suite ${file} ${out ? `--out ${out}` : '--update-results'} --resume`;
        throw new RunInterrupted(`${error.message.replace(/ Resume with: .*$/, '')} Resume the suite with: ${resume}`, error.exitCode);
      }
      console.log(`${verdictRule(outcome.results)}\n\n${headToHeadTable(outcome.results)}`);
      const { added, dropped } = outcome.change;
      if (added.length > 0) console.log(`\nthe suite file added ${added.length} runs to the saved suite: ${added.join(', ')}`);
      if (dropped.length > 0) console.log(`the suite file dropped ${dropped.length} runs not yet started: ${dropped.join(', ')}`);
      console.log(`\n${outcome.ran} runs run, ${outcome.skipped} already finished`);
      console.log(`report: ${outcome.reportPath}`);
      console.log(`plots:  ${outcome.plotPaths.join('\n        ')}`);
      console.log(`results: ${outcome.dir}/results.json`);
    });
}
