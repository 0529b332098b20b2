/**
 * `zolo memory`: analytic weights / gradients / optimizer-state bytes of a model under a method
 * (src/galore/memory.ts; formulas in docs/galore.md). zolo's own models and Hugging Face folders are
 * counted in fp32 as the ledger sees them (zolo loads F16/BF16 files to f32); the paper's LLaMA sizes
 * default to its BF16 (2 bytes per element).
 */
import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import { addPluginOption } from './pluginOption.ts';
import { ConfigError } from '../errors.ts';
import { loadPlugins } from '../experiment/plugins.ts';
import { type Architecture, architectureByName, decoderArchitecture, LLAMA_SIZES, MODEL_NAMES } from '../galore/memory.ts';
import { isHfModelDir, readHfConfig } from '../nn/hf/load.ts';
import { estimateMethodMemory, memoryMethods, type MethodMemory } from '../experiment/methodMemory.ts';
import { PROJECTION_TYPES, type ProjectionType } from '../galore/projector.ts';

interface MemoryFlags {
  plugin: string[];
  model: string;
  method: string[];
  rank?: string;
  loraRank?: string;
  projectionType: string;
  perLayer?: boolean;
  bytes?: string;
  kind: string;
  json?: boolean;
}

function positiveInteger(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new ConfigError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`);
  return parsed;
}

/** A Hugging Face folder (its config.json alone is read) or a named shape. */
async function resolveArchitecture(model: string, kind: 'causal-lm' | 'encoder-classifier'): Promise<Architecture> {
  if (!isHfModelDir(model)) return architectureByName(model, kind);
  if (kind !== 'causal-lm') throw new ConfigError(`--kind must be causal-lm for a Hugging Face model folder (${model}), got "${kind}"`);
  return decoderArchitecture(await readHfConfig(model), model);
}

const gib = (bytes: number): string => (bytes / 2 ** 30 >= 0.1 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(2)} MiB`);

export function register(program: Command): void {
  addPluginOption(program.command('memory'), 'estimator presets or backprop optimizers, to estimate them too')
    .description(commandDescription('memory'))
    .option('--model <name>', `one of ${MODEL_NAMES.join(', ')}, or a Hugging Face model folder (only its config.json is read)`, 'tiny')
    .option('--method <names...>', `one or more of ${memoryMethods().join(', ')}`, ['adamw', 'galore-adamw'])
    .option('--rank <r>', 'GaLore rank r (default: a quarter of each projected matrix\'s smaller side)')
    .option('--lora-rank <r>', 'LoRA rank (default 8)')
    .option('--projection-type <type>', `GaLore projection: ${PROJECTION_TYPES.join(', ')}`, 'std')
    .option('--per-layer', 'GaLore per-layer updates: only gradients in flight')
    .option('--bytes <n>', 'bytes per element (default: 2 (BF16, the paper\'s convention) for llama-60m … llama-7b; 4 (fp32, as zolo holds them) otherwise)')
    .option('--kind <kind>', 'zolo model kind: causal-lm | encoder-classifier', 'causal-lm')
    .option('--json', 'machine-readable output')
    .action(async (flags: MemoryFlags) => {
      await loadPlugins(flags.plugin, '--plugin');
      if (flags.kind !== 'causal-lm' && flags.kind !== 'encoder-classifier') {
        throw new ConfigError(`--kind must be one of causal-lm, encoder-classifier, got ${JSON.stringify(flags.kind)}`);
      }
      if (!(PROJECTION_TYPES as readonly string[]).includes(flags.projectionType)) {
        throw new ConfigError(`--projection-type must be one of ${PROJECTION_TYPES.join(', ')}, got ${JSON.stringify(flags.projectionType)}`);
      }
      const architecture = await resolveArchitecture(flags.model, flags.kind);
      const elementBytes = positiveInteger('--bytes', flags.bytes) ?? (flags.model in LLAMA_SIZES ? 2 : 4);
      const estimates: MethodMemory[] = flags.method.map((method) => estimateMethodMemory(architecture, method, {
        rank: positiveInteger('--rank', flags.rank),
        loraRank: positiveInteger('--lora-rank', flags.loraRank),
        projectionType: flags.projectionType as ProjectionType,
        perLayer: flags.perLayer ?? false,
        elementBytes,
      }));
      if (flags.json) {
        console.log(JSON.stringify({ model: flags.model, elementBytes, estimates }, null, 2));
        return;
      }
      const parameters = architecture.params.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
      console.log(`${architecture.name}: ${parameters.toLocaleString('en-US')} parameters, ${elementBytes} bytes per element`);
      console.log(['method'.padEnd(18), 'weights', 'adapter', 'gradients', 'optim state', 'total'].map((h, i) => (i ? h.padStart(12) : h)).join(' '));
      for (const estimate of estimates) {
        if ('unavailable' in estimate) {
          console.log(`${estimate.method.padEnd(18)} not estimated: ${estimate.unavailable}`);
          continue;
        }
        const { weights, adapter, gradient, optimizerState, total } = estimate.bytes;
        console.log([estimate.method.padEnd(18), ...[weights, adapter, gradient, optimizerState, total].map((b) => gib(b).padStart(12))].join(' '));
      }
      console.log('activations are not included (they depend on batch and sequence; `zolo run` measures them in the ledger)');
    });
}
