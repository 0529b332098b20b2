/**
 * `zolo replay DIR`: rebuilds a ZO run's final parameters from its starting parameters and its
 * zo-log.jsonl alone — no model, no data, no forward pass (src/zo/replay.ts) — writes them to
 * DIR/replayed.safetensors and compares them with the run's final checkpoint.
 *
 * Files (written by `zolo run` for ZO methods): DIR/zo-log.jsonl (header in its step-0 line, or a
 * header line), DIR/start.safetensors (the header's `start`), DIR/checkpoint.safetensors (final
 * parameters as `param/<name>`). `--log`, `--params`, `--check` and `--out` point anywhere instead.
 *
 * Backend: the run's own (DIR/config.json's `backend`, next to the log), where replay is bit for bit;
 * `--backend` picks another, and then a difference is reported against the float32 rounding bound
 * (src/zo/replayCheck.ts) instead of failing, unless it exceeds that bound.
 *
 * Plug-ins: a run of a method a plug-in registered is rebuilt after importing the modules the run
 * recorded (DIR/config.json's `plugins`, relative to DIR) and any `--plugin`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import { loadPlugins, resolvePluginPaths } from '../experiment/plugins.ts';
import { ConfigError, FormatError } from '../errors.ts';
import { createBackend } from '../kernels/index.ts';
import { readSafetensors, type SafetensorsContents, writeSafetensors } from '../nn/safetensors.ts';
import { Engine, ParamStore } from '../tensor/index.ts';
import { parseZoLog, replayZo, ZO_LOG_FILE, type ZoLog } from '../zo/index.ts';
import { compareReplayed, inPlacePasses, type ReplayComparison } from '../zo/replayCheck.ts';

interface ReplayOptions {
  log?: string;
  params?: string;
  out?: string;
  check?: string;
  steps?: string;
  backend?: string;
  plugin: string[];
  force?: boolean;
  json?: boolean;
}

/** A parameter's values in a safetensors file: run checkpoints name them `param/<name>`, model files `<name>`. */
function lookup(contents: SafetensorsContents, name: string, file: string): Float32Array {
  const entry = contents.tensors.get(`param/${name}`) ?? contents.tensors.get(name);
  if (!entry) throw new FormatError(`${file} has no tensor "${name}" (nor "param/${name}")`);
  return entry.data;
}

/** The step a run checkpoint was written at, when its metadata says so. */
function checkpointStep(contents: SafetensorsContents): number | null {
  const state = contents.metadata.state;
  if (state === undefined) return null;
  try {
    const step = (JSON.parse(state) as { step?: unknown }).step;
    return typeof step === 'number' ? step : null;
  } catch {
    return null;
  }
}

/** The run's config.json (beside the log) as far as replay reads it, or {} when there is none or it is unreadable. */
function recordedConfig(runDir: string): { backend?: unknown; plugins?: unknown } {
  const file = join(runDir, 'config.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { backend?: unknown; plugins?: unknown };
  } catch {
    return {};
  }
}

/** The backend a run recorded in its config.json (beside the log), or null when there is none. */
export function recordedBackend(runDir: string): string | null {
  const { backend } = recordedConfig(runDir);
  return typeof backend === 'string' ? backend : null;
}

/** The plug-in modules a run recorded in its config.json, made absolute, or [] when there are none. */
export function recordedPlugins(runDir: string): string[] {
  const { plugins } = recordedConfig(runDir);
  return Array.isArray(plugins) ? resolvePluginPaths(plugins.filter((path): path is string => typeof path === 'string'), runDir) : [];
}

function buildStore(engine: Engine, log: ZoLog, start: SafetensorsContents, file: string): ParamStore {
  const store = new ParamStore(engine);
  for (const described of log.header.params) {
    const values = lookup(start, described.name, file);
    const size = described.shape.reduce((n, d) => n * d, 1);
    if (values.length !== size) {
      throw new FormatError(`${file}: tensor "${described.name}" has ${values.length} values, the log says shape [${described.shape.join(', ')}]`);
    }
    // the group only decides the ledger category; replay needs names, order, shapes and flags
    store.add(described.name, 'mlp', described.shape, values, described.trainable);
  }
  return store;
}

export function register(program: Command): void {
  program
    .command('replay')
    .argument('[dir]', 'a ZO run folder written by `zolo run`')
    .description(commandDescription('replay'))
    .option('--log <file>', `the ZO log (default DIR/${ZO_LOG_FILE})`)
    .option('--params <file>', 'starting parameters, safetensors (default: the log header\'s "start", next to the log)')
    .option('--out <file>', 'where to write the rebuilt parameters (default DIR/replayed.safetensors)')
    .option('--check <file>', 'compare with these parameters (default DIR/checkpoint.safetensors when present)')
    .option('--steps <n>', 'replay only the first n logged steps')
    .option('--backend <name>', "kernel backend (default: the run's own, from DIR/config.json, else cpu); on another backend differences are checked against float32 rounding")
    .option('--plugin <module>', "import a module that registers the run's method first, besides those DIR/config.json names (repeatable)", (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--force', 'overwrite --out if it exists')
    .option('--json', 'machine-readable output')
    .action(async (dir: string | undefined, options: ReplayOptions) => {
      const logFile = options.log ?? (dir ? join(dir, ZO_LOG_FILE) : undefined);
      if (!logFile) throw new ConfigError('replay needs a run folder DIR or --log FILE');
      if (!existsSync(logFile)) throw new FormatError(`no ZO log at ${logFile}`);
      await loadPlugins(recordedPlugins(dir ?? dirname(logFile)), 'config.json plugins');
      await loadPlugins(options.plugin, '--plugin');
      const log = parseZoLog(readFileSync(logFile, 'utf8'), logFile);
      if (options.steps !== undefined) {
        const steps = Number(options.steps);
        if (!Number.isInteger(steps) || steps < 0 || steps > log.steps.length) {
          throw new ConfigError(`--steps must be an integer in [0, ${log.steps.length}], got ${JSON.stringify(options.steps)}`);
        }
        log.steps = log.steps.slice(0, steps);
      }
      const paramsFile = options.params ?? (log.header.start ? resolve(dirname(logFile), log.header.start) : undefined);
      if (!paramsFile) throw new ConfigError('the log names no starting parameters ("start"); pass --params FILE');
      const outFile = options.out ?? join(dir ?? dirname(logFile), 'replayed.safetensors');
      if (existsSync(outFile) && !options.force) throw new ConfigError(`--out ${outFile} exists; pass --force to overwrite it`);

      const runBackend = recordedBackend(dir ?? dirname(logFile));
      const backend = options.backend ?? runBackend ?? 'cpu';
      const backendSource = options.backend !== undefined ? '--backend' : runBackend !== null ? "the run's" : 'default, the run recorded none';
      // rounding differences are expected only when replaying on a backend the run did not use
      const crossBackend = runBackend !== null && backend !== runBackend;
      const engine = new Engine(await createBackend(backend));
      const store = buildStore(engine, log, await readSafetensors(paramsFile), paramsFile);
      const started = performance.now();
      const { steps } = await replayZo(store, log);
      const replayMs = performance.now() - started;
      const values = await store.snapshot();
      await writeSafetensors(
        outFile,
        store.all().map((p) => [p.name, { shape: [...p.tensor.shape], data: values.get(p.name)! }]),
        { 'zolo.format': 'zolo-params/1', 'zolo.replayedSteps': String(steps), 'zolo.method': log.header.method },
      );

      const checkFile = options.check ?? (dir && existsSync(join(dir, 'checkpoint.safetensors')) ? join(dir, 'checkpoint.safetensors') : undefined);
      let check: ({ file: string; skipped?: string } & Partial<ReplayComparison>) | null = null;
      if (checkFile) {
        const reference = await readSafetensors(checkFile);
        const referenceStep = checkpointStep(reference);
        if (referenceStep !== null && referenceStep !== steps) {
          check = { file: checkFile, skipped: `checkpoint is at step ${referenceStep}, replayed ${steps} steps (use --steps ${referenceStep})` };
        } else {
          const pairs = store.all().map((param) => {
            const mine = values.get(param.name)!;
            const theirs = lookup(reference, param.name, checkFile);
            if (theirs.length !== mine.length) throw new FormatError(`${checkFile}: tensor "${param.name}" has ${theirs.length} values, expected ${mine.length}`);
            return [mine, theirs] as const;
          });
          check = { file: checkFile, ...compareReplayed(pairs, inPlacePasses(log.steps)) };
        }
      }
      engine.backend.dispose();

      const report = { method: log.header.method, steps, backend, backendSource, runBackend, params: store.count(), trainable: store.count(true), out: outFile, replayMs, check };
      if (options.json) {
        console.log(JSON.stringify(report, null, 2));
      } else {
        console.log(`replayed ${steps} ${log.header.method} steps over ${report.trainable} trainable values on the ${backend} backend (${backendSource}) in ${replayMs.toFixed(0)} ms (no forward pass) → ${outFile}`);
        if (check?.skipped) console.log(`check skipped: ${check.skipped}`);
        else if (check?.bitIdentical) console.log(`identical bit for bit to ${check.file}`);
        else if (check) {
          const sizes = `max |Δ| = ${check.maxAbsDiff}, max relative = ${check.maxRelDiff}`;
          const rounding = `float32 rounding over ${check.passes} in-place passes allows ${check.roundingBound!.toExponential(2)}`;
          if (crossBackend) console.log(`differs from ${check.file} (run on ${runBackend}, replayed on ${backend}): ${sizes}; ${rounding}: ${check.withinRounding ? 'within rounding' : 'BEYOND rounding'}`);
          else console.log(`differs from ${check.file} on ${backend}${runBackend ? ", the run's own backend, where replay is bit for bit" : ''}: ${sizes}`);
        }
      }
      // on the run's backend anything but bit for bit is a failure; across backends, only beyond rounding
      if (check && !check.skipped && !check.bitIdentical && (!crossBackend || !check.withinRounding)) process.exitCode = 4;
    });
}
