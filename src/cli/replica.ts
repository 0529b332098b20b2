import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import { collect } from './pluginOption.ts';
import '../experiment/builtins.ts';
import { loadPlugins } from '../experiment/plugins.ts';
import { runProgress } from '../experiment/progress.ts';
import { DEFAULT_WAIT_MS, runReplica } from '../distributed/replica.ts';
import { addRedisFlags, integerFlag, redisTargetOf, secondsFlag, type RedisFlags } from './redisFlags.ts';

interface ReplicaFlags extends RedisFlags {
  group?: string;
  rank?: number;
  out?: string;
  plugin: string[];
  wait?: number;
}

export function register(program: Command): void {
  const command = program.command('replica').description(commandDescription('replica'));
  addRedisFlags(command, true)
    .option('--group <name>', 'the replica group to join (default: the only one whose coordinator is running; waits up to --wait for one)')
    .option('--rank <r>', 'the rank to take, 1 … replicas − 1 (default: the first free one)', integerFlag('--rank', 1))
    .option('--out <dir>', "this replica's folder: its checkpoints and final parameters (default runs/replica-<group>-r<rank>)")
    .option('--plugin <module>', "a plug-in module the group's config may name (repeatable)", collect, [] as string[])
    .option('--wait <seconds>', `how long to wait for the coordinator to start (default ${DEFAULT_WAIT_MS / 1000})`, secondsFlag('--wait'))
    .action(async (options: ReplicaFlags) => {
      await loadPlugins(options.plugin, '--plugin');
      const result = await runReplica({
        target: redisTargetOf(options),
        ...(options.group ? { group: options.group } : {}),
        ...(options.rank !== undefined ? { rank: options.rank } : {}),
        ...(options.out ? { out: options.out } : {}),
        plugins: options.plugin,
        waitMs: options.wait ?? DEFAULT_WAIT_MS,
        progress: runProgress(),
      });
      const perStep = result.traffic.steps > 0 ? `; ${Math.round(result.traffic.sent / result.traffic.steps)} B sent, ${Math.round(result.traffic.received / result.traffic.steps)} B received per step` : '';
      console.log(`replica ${result.rank} of ${result.group}: the run ${result.stop.reason} at step ${result.stop.step}; this replica is at step ${result.step} (${result.replayed} steps replayed from the log)${perStep}`);
      console.log(`parameters: ${result.dir}/model.safetensors`);
    });
}
