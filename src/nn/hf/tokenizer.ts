/**
 * A Hugging Face `tokenizer.json` (with its tokenizer_config.json) through @huggingface/tokenizers,
 * the pure-JavaScript port of the Rust `tokenizers` library: BPE, WordPiece, Unigram, byte-level,
 * normalizers, pre-tokenizers and post-processors (BOS/EOS templates) as the model was published.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { FormatError } from '../../errors.ts';

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

export interface EncodeOptions {
  /** add what the post-processor adds (e.g. LLaMA's BOS); default true, as in Python. */
  addSpecialTokens?: boolean;
}

export type SpecialTokenKind = 'bos' | 'eos' | 'pad' | 'unk';

export class HfTokenizer {
  private constructor(
    private readonly tokenizer: Tokenizer,
    private readonly config: Record<string, unknown>,
    readonly source: string,
  ) {}

  /** Reads `dir`/tokenizer.json and, when present, `dir`/tokenizer_config.json. */
  static async load(dir: string): Promise<HfTokenizer> {
    const file = join(dir, TOKENIZER_FILE);
    if (!existsSync(file)) throw new FormatError(`${dir}: has no ${TOKENIZER_FILE} (zolo reads fast-tokenizer files only)`);
    const configFile = join(dir, TOKENIZER_CONFIG_FILE);
    try {
      const json = JSON.parse(await readFile(file, 'utf8')) as object;
      const config = existsSync(configFile) ? (JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>) : {};
      return new HfTokenizer(new Tokenizer(json, config), config, file);
    } catch (error) {
      throw new FormatError(`${file}: not a tokenizer zolo can read (${(error as Error).message})`);
    }
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }).ids;
  }

  /** The id of tokenizer_config.json's `<kind>_token` (a string or {"content": …}), if it names a known token. */
  specialTokenId(kind: SpecialTokenKind): number | undefined {
    const entry = this.config[`${kind}_token`];
    const content = typeof entry === 'string' ? entry : (entry as { content?: unknown } | null)?.content;
    return typeof content === 'string' ? this.tokenizer.token_to_id(content) : undefined;
  }

  decode(ids: readonly number[]): string {
    // the library refuses an empty list; Python returns ''
    return ids.length === 0 ? '' : this.tokenizer.decode([...ids]);
  }
}
