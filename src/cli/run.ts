import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import { addPluginOption, collect } from './pluginOption.ts';
import '../experiment/builtins.ts';
import { runProgress } from '../experiment/progress.ts';
import { loadPlugins } from '../experiment/plugins.ts';
import { resolveRunConfigWithPlugins } from '../experiment/resolve.ts';
import { resolveResume } from '../experiment/resume.ts';
import { describeOutcome, readRunConfig, runExperiment, type RunOptions, type RunResult } from '../experiment/runner.ts';
import type { RunConfig } from '../experiment/config.ts';
import { checkReplicaCount, DEFAULT_HEARTBEAT_MS, DEFAULT_JOIN_TIMEOUT_MS, REPLICAS_LOG, runReplicated, type ReplicatedRunOptions } from '../distributed/replicatedRun.ts';
import { addRedisFlags, integerFlag, redisTargetOf, secondsFlag, type RedisFlags } from './redisFlags.ts';
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

interface ReplicaRunFlags extends RedisFlags {
  replicas?: number;
  group?: string;
  heartbeatTimeout?: number;
  joinTimeout?: number;
}

type RunFlags = Record<string, unknown> & { set: string[]; plugin: string[]; config?: string; resume?: string | boolean } & ReplicaRunFlags;

/** The options that make a run data-parallel; `null` for an ordinary run. */
function replication(options: RunFlags): Omit<ReplicatedRunOptions, keyof RunOptions> | null {
  if (options.replicas === undefined) {
    if (options.queue !== undefined) throw new ConfigError('--queue needs --replicas N for `zolo run` (a suite takes --queue to spread its runs: zolo suite FILE --queue URL)');
    return null;
  }
  return {
    target: redisTargetOf(options),
    replicas: checkReplicaCount(options.replicas),
    ...(options.group ? { group: options.group } : {}),
    heartbeatMs: options.heartbeatTimeout ?? DEFAULT_HEARTBEAT_MS,
    joinTimeoutMs: options.joinTimeout ?? DEFAULT_JOIN_TIMEOUT_MS,
  };
}

/** A run, alone or as the coordinator of its replica group. */
async function execute(config: RunConfig, options: RunOptions, replicated: ReturnType<typeof replication>): Promise<RunResult> {
  if (replicated === null) return runExperiment(config, options);
  const result = await runReplicated(config, { ...options, ...replicated });
  const { steps, sent, received } = result.traffic;
  if (steps > 0) console.log(`replica group ${result.group}: ${Math.round(sent / steps)} B sent, ${Math.round(received / steps)} B received per step by the coordinator (${REPLICAS_LOG})`);
  return result;
}

export function register(program: Command): void {
  const command = addRunConfigOptions(
    program
      .command('run')
      .description(commandDescription('run'))
      .option('--resume [dir]', 'continue the run in DIR (or --out) from its last checkpoint; a larger --steps or budget extends it, other changes are refused')
      .option('--force', 'overwrite a non-empty --out folder'),
  );
  addRedisFlags(command, false)
    .option('--replicas <n>', 'data-parallel ZO: this run and n − 1 `zolo replica` processes split every batch (needs --queue)', integerFlag('--replicas', 2))
    .option('--group <name>', 'with --replicas: the replica group\'s name on Redis (default: the run folder\'s name)')
    .option('--heartbeat-timeout <seconds>', `with --replicas: a replica silent this long is dropped and its rows go to the others (default ${DEFAULT_HEARTBEAT_MS / 1000})`, secondsFlag('--heartbeat-timeout'))
    .option('--join-timeout <seconds>', `with --replicas: how long the first step waits for every replica to join (default ${DEFAULT_JOIN_TIMEOUT_MS / 1000})`, secondsFlag('--join-timeout'));
  command.action(async (options: RunFlags) => {
    const replicated = replication(options);
    const { queue: _queue, tlsCa: _ca, tlsCert: _cert, tlsKey: _key, replicas: _replicas, group: _group, heartbeatTimeout: _heartbeat, joinTimeout: _join, ...runFlags } = options;
    if (options.resume) {
      const dir = typeof options.resume === 'string' ? options.resume : (options.out as string | undefined);
      if (!dir) throw new ConfigError('--resume needs the run folder: --resume DIR');
      const { set, plugin, config: configFile, resume: _resume, ...flags } = runFlags;
      const saved = readRunConfig(dir);
      // the saved config names its plug-ins; --plugin only adds modules to import, the config stays as saved
      await loadPlugins([...saved.plugins, ...plugin], '--plugin');
      const { config, extensions } = resolveResume(dir, saved, { ...(configFile ? { configFile } : {}), flags, sets: set });
      const { summary, alreadyFinished } = await execute(config, { resume: true, extensions, progress: runProgress(), label: config.method }, replicated);
      if (alreadyFinished) {
        console.log(`${dir}: already finished (${describeOutcome(summary)}); nothing to do. A larger --steps, --forward-budget or --wall-budget extends it.`);
      } else {
        for (const { key, from, to } of extensions) console.log(`extended ${key}: ${from ?? 'no limit'} → ${to ?? 'no limit'}`);
        console.log(`${dir}: ${describeOutcome(summary)}`);
      }
      if (summary.status === 'diverged') process.exitCode = 3;
      return;
    }
    const { set, plugin, config: configFile, ...flags } = runFlags;
    const config = await resolveRunConfigWithPlugins({ ...(configFile ? { configFile } : {}), flags, sets: set as string[], plugins: plugin as string[] });
    const { dir, summary } = await execute(config, { progress: runProgress(), label: config.method }, replicated);
    console.log(`${dir}: ${describeOutcome(summary)}`);
    console.log(`summary: ${dir}/summary.json  metrics: ${dir}/metrics.jsonl`);
    if (summary.status === 'diverged') process.exitCode = 3;
  });
}
