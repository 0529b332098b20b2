import { Option, type Command } from 'commander';
import { commandDescription } from './commands.ts';
import { collect } from './pluginOption.ts';
import '../experiment/builtins.ts';
import { loadPlugins } from '../experiment/plugins.ts';
import { serveRunRequests } from '../distributed/jobProcess.ts';
import { DEFAULT_MAX_STALLS, DEFAULT_STALL_TIMEOUT_MS, DEFAULT_WORK_DIR, startSuiteWorker } from '../distributed/suiteWorker.ts';
import { addRedisFlags, integerFlag, redisTargetOf, secondsFlag, type RedisFlags } from './redisFlags.ts';

interface WorkerFlags extends RedisFlags {
  name?: string;
  concurrency: number;
  workDir: string;
  stallTimeout?: number;
  maxStalls: number;
  plugin: string[];
  workerName?: string;
  runJobs?: boolean;
}

export function register(program: Command): void {
  const command = program.command('worker').description(commandDescription('worker'));
  // --queue is checked in the action: the run processes a worker forks take this command without it
  addRedisFlags(command, false)
    .option('--name <queue>', 'serve this suite queue only (default: every suite being collected on this Redis)')
    .option('--concurrency <n>', 'runs at a time, each in its own process', integerFlag('--concurrency', 1), 1)
    .option('--work-dir <dir>', 'where runs are written (WORKDIR/<queue>/<run id>); a folder every worker mounts lets a retried run resume', DEFAULT_WORK_DIR)
    .option('--stall-timeout <seconds>', `a job whose worker stops renewing its lock this long goes back to the queue (default ${DEFAULT_STALL_TIMEOUT_MS / 1000})`, secondsFlag('--stall-timeout'))
    .option('--max-stalls <n>', 'times a job may go back to the queue after a stall before it fails', integerFlag('--max-stalls', 0), DEFAULT_MAX_STALLS)
    .option('--plugin <module>', 'a plug-in module jobs may name (repeatable); jobs naming any other are rejected', collect, [] as string[])
    .option('--worker-name <name>', 'the name jobs and the suite progress show (default <host>-<pid>)')
    .addOption(new Option('--run-jobs', 'run jobs sent by a parent worker over IPC').hideHelp())
    .action(async (options: WorkerFlags) => {
      if (options.runJobs) {
        serveRunRequests();
        return;
      }
      await loadPlugins(options.plugin, '--plugin');
      const worker = await startSuiteWorker({
        target: redisTargetOf(options),
        ...(options.name ? { queueName: options.name } : {}),
        concurrency: options.concurrency,
        workDir: options.workDir,
        plugins: options.plugin,
        stallTimeoutMs: options.stallTimeout ?? DEFAULT_STALL_TIMEOUT_MS,
        maxStalls: options.maxStalls,
        ...(options.workerName ? { name: options.workerName } : {}),
      });
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals): void => {
          if (stopping) process.exit(signal === 'SIGINT' ? 130 : 143);
          stopping = true;
          process.stderr.write(`${signal}: ${worker.name} takes no new jobs and stops when its running ones finish (again to exit at once)\n`);
          void worker.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
