import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import { addPluginOption, collect } from './pluginOption.ts';
import '../experiment/builtins.ts';
import { runProgress } from '../experiment/progress.ts';
import { loadPlugins } from '../experiment/plugins.ts';
import { resolveRunConfigWithPlugins } from '../experiment/resolve.ts';
import { resolveResume } from '../experiment/resume.ts';
import { describeOutcome, readRunConfig, runExperiment } from '../experiment/runner.ts';
import { ConfigError } from '../errors.ts';


/** The options every command that builds a run config shares (run, config). */
export function addRunConfigOptions(command: Command): Command {
  command
    .option('--method <name>', 'fine-tuning method (see `zolo methods`; zero-shot, mezo, lozo, …)')
    .option('--task <name>', 'task: spam or a synthetic task (synthetic-blobs)')
    .option('--model <name>', 'tiny, small, a checkpoint path or a Hugging Face model folder (synthetic-blobs: linear)')
    .option('--steps <n>', 'training steps (the step budget)')
    .option('--seed <n>', 'run seed (data order, noise, adapter init)')
    .option('--batch-size <n>', 'examples per step')
    .option('--lr <x>', "learning rate (default: the method's)")
    .option('--lr-schedule <name>', 'constant, linear, cosine or step (with --set lrStepEvery=k, lrStepFactor=γ)')
    .option('--lr-warmup <n>', 'steps of linear warm-up from 0 to lr')
    .option('--weight-decay <x>', "weight decay (default: the method's)")
    .option('--eval-interval <n>', 'steps between validation evaluations (0 = only at the end)')
    .option('--eval-size <n>', 'validation (and test) examples per evaluation (0 = all)')
    .option('--select-by <rule>', 'val-accuracy, val-loss or last: which evaluated point the summary reports (test is evaluated there)')
    .option('--diverge-factor <k>', 'diverged when the smoothed training loss exceeds k × the first loss (0 = off)')
    .option('--log-interval <n>', 'steps between metrics lines')
    .option('--backend <name>', 'kernel backend (see `zolo backends`)')
    .option('--checkpoint-every <n>', 'steps between checkpoints (0 = only at the end)')
    .option('--forward-budget <n>', 'stop after this many training forward passes')
    .option('--wall-budget <seconds>', 'stop after this much wall time')
    .option('--out <dir>', 'output folder (default runs/<method>-<task>-<timestamp>)')
    .option('--config <file>', 'JSON run config (flags and --set override it)');
  return addPluginOption(command, 'estimators, backprop optimizers, methods or tasks before the config is checked')
    .option('--set <key=value>', 'set any config key by dotted path, e.g. options.eps=1e-3 (repeatable)', collect, [] as string[]);
}

export function register(program: Command): void {
  addRunConfigOptions(
    program
      .command('run')
      .description(commandDescription('run'))
      .option('--resume [dir]', 'continue the run in DIR (or --out) from its last checkpoint; a larger --steps or budget extends it, other changes are refused')
      .option('--force', 'overwrite a non-empty --out folder'),
  ).action(async (options: Record<string, unknown> & { set: string[]; plugin: string[]; config?: string; resume?: string | boolean }) => {
    if (options.resume) {
      const dir = typeof options.resume === 'string' ? options.resume : (options.out as string | undefined);
      if (!dir) throw new ConfigError('--resume needs the run folder: --resume DIR');
      const { set, plugin, config: configFile, resume: _resume, ...flags } = options;
      const saved = readRunConfig(dir);
      // the saved config names its plug-ins; --plugin only adds modules to import, the config stays as saved
      await loadPlugins([...saved.plugins, ...plugin], '--plugin');
      const { config, extensions } = resolveResume(dir, saved, { ...(configFile ? { configFile } : {}), flags, sets: set });
      const { summary, alreadyFinished } = await runExperiment(config, { resume: true, extensions, progress: runProgress(), label: config.method });
      if (alreadyFinished) {
        console.log(`${dir}: already finished (${describeOutcome(summary)}); nothing to do. A larger --steps, --forward-budget or --wall-budget extends it.`);
      } else {
        for (const { key, from, to } of extensions) console.log(`extended ${key}: ${from ?? 'no limit'} → ${to ?? 'no limit'}`);
        console.log(`${dir}: ${describeOutcome(summary)}`);
      }
      if (summary.status === 'diverged') process.exitCode = 3;
      return;
    }
    const { set, plugin, config: configFile, ...flags } = options;
    const config = await resolveRunConfigWithPlugins({ ...(configFile ? { configFile } : {}), flags, sets: set, plugins: plugin });
    const { dir, summary } = await runExperiment(config, { progress: runProgress(), label: config.method });
    console.log(`${dir}: ${describeOutcome(summary)}`);
    console.log(`summary: ${dir}/summary.json  metrics: ${dir}/metrics.jsonl`);
    if (summary.status === 'diverged') process.exitCode = 3;
  });
}
