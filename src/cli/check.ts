/**
 * `zolo check`: runs the assumption checkers (src/assumptions) on a real model + task and writes
 * DIR/check.json, DIR/report.md and SVG plots (src/experiment/check). Progress lines go to stderr;
 * with --json the results also go to stdout. Every flag is validated before any work, and an
 * existing non-empty --out is refused unless --force.
 */
import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import { addPluginOption } from './pluginOption.ts';
import '../experiment/builtins.ts';
import { CHECK_DEFAULTS } from '../experiment/check/defaults.ts';
import { checkOutDir, prepareCheckDir, REPORT_FILE, writeCheck } from '../experiment/check/output.ts';
import { type CheckOptions, type CheckResults, runCheck, zoMethodNames } from '../experiment/check/runCheck.ts';
import { loadPlugins } from '../experiment/plugins.ts';
import { registeredTasks } from '../experiment/workload.ts';
import { ConfigError } from '../errors.ts';
import { registeredBackends } from '../kernels/index.ts';

export interface CheckFlags {
  /** modules to import first (estimator presets or tasks they register become checkable). */
  plugin?: string[];
  model?: string;
  task?: string;
  method?: string;
  out?: string;
  batch?: string;
  draws?: string;
  probes?: string;
  lanczos?: string;
  steps?: string;
  seed?: string;
  backend?: string;
  force?: boolean;
  json?: boolean;
}

export interface CheckCommand extends CheckOptions {
  plugins: string[];
  out: string;
  force: boolean;
  json: boolean;
}

export const DEFAULT_CHECK_METHODS = ['mezo', 'lozo', 'adazeta'];

function integer(flag: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const parsed = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isInteger(parsed) || parsed < min) throw new ConfigError(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  return parsed;
}

/** Validates every flag (ConfigError naming the flag and the allowed values); touches nothing. */
export function parseCheckFlags(flags: CheckFlags): CheckCommand {
  if (!flags.out) throw new ConfigError('--out is required: the folder for check.json, report.md and the plots');
  const task = flags.task ?? 'spam';
  const tasks = registeredTasks();
  if (!tasks.includes(task)) throw new ConfigError(`--task must be one of ${tasks.join(', ')}, got ${JSON.stringify(task)}`);
  const known = zoMethodNames();
  const methods = (flags.method ?? DEFAULT_CHECK_METHODS.join(',')).split(',').map((m) => m.trim()).filter((m) => m !== '');
  for (const method of methods) {
    if (!known.includes(method)) throw new ConfigError(`--method must be a comma-separated list of ZO estimators among ${known.join(', ')}, got ${JSON.stringify(method)}`);
  }
  if (flags.backend !== undefined && !registeredBackends().includes(flags.backend)) {
    throw new ConfigError(`--backend must be one of ${registeredBackends().join(', ')}, got ${JSON.stringify(flags.backend)}`);
  }
  return {
    model: flags.model ?? 'tiny',
    task,
    methods,
    batch: integer('--batch', flags.batch, CHECK_DEFAULTS.batch, 1),
    draws: integer('--draws', flags.draws, CHECK_DEFAULTS.draws, 2),
    probes: integer('--probes', flags.probes, CHECK_DEFAULTS.probes, 2),
    lanczosIterations: integer('--lanczos', flags.lanczos, CHECK_DEFAULTS.lanczosIterations, 1),
    steps: integer('--steps', flags.steps, CHECK_DEFAULTS.steps, 1),
    seed: integer('--seed', flags.seed, CHECK_DEFAULTS.seed, 0),
    ...(flags.backend === undefined ? {} : { backend: flags.backend }),
    plugins: flags.plugin ?? [],
    out: flags.out,
    force: flags.force ?? false,
    json: flags.json ?? false,
  };
}

/** The command line that reproduces a check (recorded in report.md). */
export function commandLine(command: CheckCommand): string {
  return [
    'zolo check', ...command.plugins.map((plugin) => `--plugin ${plugin}`), `--model ${command.model}`, `--task ${command.task}`, `--method ${command.methods.join(',')}`,
    `--batch ${command.batch}`, `--draws ${command.draws}`, `--probes ${command.probes}`, `--lanczos ${command.lanczosIterations}`,
    `--steps ${command.steps}`, `--seed ${command.seed}`, ...(command.backend ? [`--backend ${command.backend}`] : []), `--out ${command.out}`,
  ].join(' ');
}

export async function runCheckCommand(
  flags: CheckFlags, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<CheckResults> {
  await loadPlugins(flags.plugin ?? [], '--plugin');
  const command = parseCheckFlags(flags);
  checkOutDir(command.out, command.force);
  const started = performance.now();
  const results = await runCheck({ ...command, progress: (line) => log(`[check ${((performance.now() - started) / 1000).toFixed(0)}s] ${line}`) });
  prepareCheckDir(command.out, command.force);
  await writeCheck(command.out, results, commandLine(command));
  log(`report: ${command.out}/${REPORT_FILE}  results: ${command.out}/check.json`);
  return results;
}

export function register(program: Command): void {
  addPluginOption(program.command('check'), 'estimator presets or tasks, to check them too')
    .description(commandDescription('check'))
    .option('--model <name>', 'tiny, small or a checkpoint directory (synthetic-blobs: linear)', 'tiny')
    .option('--task <name>', 'spam or a synthetic task (synthetic-blobs)', 'spam')
    .option('--method <names>', 'ZO estimators to check, comma-separated (see `zolo methods`)', DEFAULT_CHECK_METHODS.join(','))
    .option('--out <dir>', 'output folder (required)')
    .option('--batch <n>', `examples in the fixed batch (default ${CHECK_DEFAULTS.batch})`)
    .option('--draws <n>', `estimates per estimator (default ${CHECK_DEFAULTS.draws})`)
    .option('--probes <n>', `Hutchinson probes for tr(H) (default ${CHECK_DEFAULTS.probes})`)
    .option('--lanczos <n>', `Lanczos iterations for the top of the Hessian spectrum (default ${CHECK_DEFAULTS.lanczosIterations})`)
    .option('--steps <n>', `AdamW steps of the low-rank / PL trajectory (default ${CHECK_DEFAULTS.steps})`)
    .option('--seed <n>', `seed (directions, probes, minibatch order; default ${CHECK_DEFAULTS.seed})`)
    .option('--backend <name>', 'kernel backend (see `zolo backends`)')
    .option('--force', 'overwrite a non-empty --out folder')
    .option('--json', 'also print check.json to stdout')
    .action(async (flags: CheckFlags) => {
      const results = await runCheckCommand(flags);
      if (flags.json) console.log(JSON.stringify(results, null, 1));
    });
}
