/**
 * `zolo logits`: next-token logits at the last position of a Hugging Face model folder (config.json,
 * safetensors weights, tokenizer.json), for token ids or for a text the folder's tokenizer encodes.
 * The check a user runs against transformers' own output before fine-tuning a pretrained model.
 */
import type { Command } from 'commander';
import { commandDescription } from './commands.ts';
import { ConfigError } from '../errors.ts';
import { createBackend } from '../kernels/index.ts';
import { HfTokenizer, isHfModelDir, loadHfModel } from '../nn/hf/index.ts';
import { Engine, MemoryLedger } from '../tensor/index.ts';

export interface LogitsRequest {
  model: string;
  /** token ids, or … */
  tokens?: readonly number[];
  /** … a text encoded by the folder's tokenizer.json (special tokens added as in Python). */
  text?: string;
  backend?: string;
}

export interface LogitsResult {
  tokens: number[];
  /** [vocab] logits of the token after the last input token. */
  logits: number[];
}

/** Parses "5,17,42" into ids; anything else is a ConfigError naming the flag. */
export function parseTokens(value: string): number[] {
  const parts = value.split(',').map((part) => part.trim());
  const ids = parts.map(Number);
  if (parts.length === 0 || parts.some((part) => part === '') || ids.some((id) => !Number.isInteger(id) || id < 0)) {
    throw new ConfigError(`--tokens must be comma-separated non-negative integers like 5,17,42, got ${JSON.stringify(value)}`);
  }
  return ids;
}

export async function lastPositionLogits(request: LogitsRequest): Promise<LogitsResult> {
  if ((request.tokens === undefined) === (request.text === undefined)) {
    throw new ConfigError('give exactly one of --tokens and --text');
  }
  if (!isHfModelDir(request.model)) {
    throw new ConfigError(`--model must be a Hugging Face model folder (with config.json), got ${JSON.stringify(request.model)}`);
  }
  const tokens = request.tokens ? [...request.tokens] : (await HfTokenizer.load(request.model)).encode(request.text!);
  if (tokens.length === 0) throw new ConfigError(`--text ${JSON.stringify(request.text)} encodes to no tokens`);
  const engine = new Engine(await createBackend(request.backend), new MemoryLedger());
  try {
    const model = await loadHfModel(request.model, engine);
    const logits = model.forward({ ids: Int32Array.from(tokens), batch: 1, seq: tokens.length });
    const values = await logits.read();
    const vocab = model.config.vocab;
    return { tokens, logits: Array.from(values.subarray((tokens.length - 1) * vocab)) };
  } finally {
    engine.backend.dispose();
  }
}

export function register(program: Command): void {
  program
    .command('logits')
    .description(commandDescription('logits'))
    .requiredOption('--model <dir>', 'Hugging Face model folder: config.json, model.safetensors (or a sharded index), tokenizer.json')
    .option('--tokens <ids>', 'comma-separated token ids, e.g. 5,17,42')
    .option('--text <text>', 'text to encode with the folder\'s tokenizer.json')
    .option('--backend <name>', 'kernel backend (see `zolo backends`)')
    .option('--json', 'print {"tokens": [...], "logits": [...]} (full vocabulary, float)')
    .action(async (flags: { model: string; tokens?: string; text?: string; backend?: string; json?: boolean }) => {
      const result = await lastPositionLogits({
        model: flags.model, tokens: flags.tokens === undefined ? undefined : parseTokens(flags.tokens), text: flags.text, backend: flags.backend,
      });
      if (flags.json) {
        console.log(JSON.stringify(result));
        return;
      }
      const top = result.logits.map((value, id) => ({ id, value })).sort((p, q) => q.value - p.value).slice(0, 10);
      console.log(`tokens [${result.tokens.join(', ')}]: ${result.logits.length} logits; top 10 next tokens:`);
      for (const { id, value } of top) console.log(`  ${String(id).padStart(6)}  ${value.toFixed(6)}`);
    });
}
