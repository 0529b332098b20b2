/**
 * Byte-level BPE (Sennrich et al. 2016, byte-level as in GPT-2), trained here on the training split.
 *
 * Ids: 0..4 are the special tokens pad, unk, bos, eos, sep; 5..260 are the 256 byte values
 * (id = 5 + byte); 261.. are merges in the order they were learned. `unk` exists for format
 * compatibility but is never produced: every string is a sequence of bytes.
 *
 * Pre-tokenisation (GPT-2 style, digits in runs of ≤ 3): contractions, " ?letters", " ?digits",
 * " ?punctuation", whitespace. Merges never cross pre-token boundaries.
 *
 * Contract: `decode(encode(s)) === s` for every well-formed Unicode string s (lone surrogates are
 * not valid UTF-8 and come back as U+FFFD). Training is deterministic: pair-count ties go to the
 * pair with the smaller (left id, right id). Training stops early when no pair occurs twice.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { ConfigError, FormatError, assertPositiveInteger } from '../errors.ts';

export const SPECIAL_TOKENS = ['pad', 'unk', 'bos', 'eos', 'sep'] as const;
export type SpecialToken = (typeof SPECIAL_TOKENS)[number];
export const SPECIAL_IDS: Record<SpecialToken, number> = { pad: 0, unk: 1, bos: 2, eos: 3, sep: 4 };
export const BYTE_OFFSET = SPECIAL_TOKENS.length;
export const FIRST_MERGE_ID = BYTE_OFFSET + 256;
/** the `tiny` preset's bound (vocab ≤ 4096). */
export const DEFAULT_VOCAB_SIZE = 4096;
export const MAX_VOCAB_SIZE = 65536;

export const PRETOKEN_PATTERN = "'(?:s|t|re|ve|m|ll|d)| ?\\p{L}+| ?\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const TOKENIZER_FORMAT = 'zolo-byte-bpe';
const TOKENIZER_VERSION = 1;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

export interface TokenizerJson {
  format: typeof TOKENIZER_FORMAT;
  version: number;
  vocabSize: number;
  specialTokens: Record<SpecialToken, number>;
  pattern: string;
  /** merge i (creating id FIRST_MERGE_ID + i) joins merges[2i] and merges[2i+1] */
  merges: number[];
}

function pretokens(text: string): string[] {
  return text.match(new RegExp(PRETOKEN_PATTERN, 'gu')) ?? [];
}

function pairKey(left: number, right: number): number {
  return left * MAX_VOCAB_SIZE + right;
}

export class Tokenizer {
  readonly vocabSize: number;
  readonly bosId = SPECIAL_IDS.bos;
  readonly padId = SPECIAL_IDS.pad;
  /** rank of each mergeable pair (pairKey → index of the merge) */
  private readonly ranks = new Map<number, number>();
  private readonly tokenBytes: Uint8Array[] = [];
  private readonly cache = new Map<string, number[]>();

  constructor(readonly merges: readonly (readonly [number, number])[]) {
    this.vocabSize = FIRST_MERGE_ID + merges.length;
    for (let i = 0; i < BYTE_OFFSET; i++) this.tokenBytes.push(new Uint8Array(0));
    for (let b = 0; b < 256; b++) this.tokenBytes.push(Uint8Array.of(b));
    merges.forEach(([left, right], i) => {
      const id = FIRST_MERGE_ID + i;
      if (!(left >= BYTE_OFFSET && left < id && right >= BYTE_OFFSET && right < id)) {
        throw new FormatError(`tokenizer merge ${i} joins ids ${left} and ${right}; both must be earlier non-special tokens (< ${id})`);
      }
      this.ranks.set(pairKey(left, right), i);
      const bytes = new Uint8Array(this.tokenBytes[left]!.length + this.tokenBytes[right]!.length);
      bytes.set(this.tokenBytes[left]!);
      bytes.set(this.tokenBytes[right]!, this.tokenBytes[left]!.length);
      this.tokenBytes.push(bytes);
    });
  }

  get specialIds(): Record<SpecialToken, number> {
    return SPECIAL_IDS;
  }

  /** Token ids of `text` (no special tokens added). */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const piece of pretokens(text)) {
      let pieceIds = this.cache.get(piece);
      if (!pieceIds) {
        pieceIds = this.encodePiece(piece);
        if (this.cache.size < 200_000) this.cache.set(piece, pieceIds);
      }
      for (const id of pieceIds) ids.push(id);
    }
    return ids;
  }

  /** Applies merges lowest rank first, as they were learned. */
  private encodePiece(piece: string): number[] {
    const symbols = Array.from(encoder.encode(piece), (b) => b + BYTE_OFFSET);
    while (symbols.length > 1) {
      let bestRank = Infinity;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.ranks.get(pairKey(symbols[i]!, symbols[i + 1]!));
        if (rank !== undefined && rank < bestRank) bestRank = rank;
      }
      if (bestRank === Infinity) break;
      const [left, right] = this.merges[bestRank]!;
      const merged = FIRST_MERGE_ID + bestRank;
      mergePairInPlace(symbols, left, right, merged);
    }
    return symbols;
  }

  /** Text of `ids`; special tokens decode to nothing. Throws on ids outside the vocabulary. */
  decode(ids: ArrayLike<number>): string {
    let length = 0;
    for (let i = 0; i < ids.length; i++) length += this.bytesOf(ids[i]!).length;
    const bytes = new Uint8Array(length);
    let offset = 0;
    for (let i = 0; i < ids.length; i++) {
      const piece = this.bytesOf(ids[i]!);
      bytes.set(piece, offset);
      offset += piece.length;
    }
    return decoder.decode(bytes);
  }

  private bytesOf(id: number): Uint8Array {
    const bytes = this.tokenBytes[id];
    if (!Number.isInteger(id) || !bytes) throw new ConfigError(`token id must be an integer in [0, ${this.vocabSize}), got ${id}`);
    return bytes;
  }

  /** Human-readable form of one token (specials as <name>), for docs and debugging. */
  tokenToString(id: number): string {
    if (id < BYTE_OFFSET) return `<${SPECIAL_TOKENS[id]}>`;
    return decoder.decode(this.bytesOf(id));
  }

  /** The id of `text` if it is exactly one token, else undefined. */
  singleTokenId(text: string): number | undefined {
    const ids = this.encode(text);
    return ids.length === 1 ? ids[0] : undefined;
  }

  toJSON(): TokenizerJson {
    return {
      format: TOKENIZER_FORMAT,
      version: TOKENIZER_VERSION,
      vocabSize: this.vocabSize,
      specialTokens: { ...SPECIAL_IDS },
      pattern: PRETOKEN_PATTERN,
      merges: this.merges.flat(),
    };
  }

  static fromJSON(json: unknown, source = 'tokenizer JSON'): Tokenizer {
    const data = json as Partial<TokenizerJson> | null;
    if (!data || typeof data !== 'object' || data.format !== TOKENIZER_FORMAT) {
      throw new FormatError(`${source} is not a zolo tokenizer (format must be "${TOKENIZER_FORMAT}", got ${JSON.stringify(data?.format)})`);
    }
    if (data.version !== TOKENIZER_VERSION) throw new FormatError(`${source}: tokenizer version ${data.version} is not supported (expected ${TOKENIZER_VERSION})`);
    if (data.pattern !== PRETOKEN_PATTERN) throw new FormatError(`${source}: pre-tokenizer pattern differs from this version's`);
    const flat = data.merges;
    if (!Array.isArray(flat) || flat.length % 2 !== 0 || !flat.every((v) => Number.isInteger(v))) {
      throw new FormatError(`${source}: "merges" must be a flat array of integer pairs`);
    }
    const merges: [number, number][] = [];
    for (let i = 0; i < flat.length; i += 2) merges.push([flat[i]!, flat[i + 1]!]);
    const tokenizer = new Tokenizer(merges);
    if (data.vocabSize !== tokenizer.vocabSize) {
      throw new FormatError(`${source}: vocabSize ${data.vocabSize} does not match its ${merges.length} merges (${tokenizer.vocabSize})`);
    }
    return tokenizer;
  }

  save(path: string): void {
    writeFileSync(path, `${JSON.stringify(this.toJSON())}\n`);
  }

  static load(path: string): Tokenizer {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new FormatError(`cannot read tokenizer file ${path}: ${(error as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new FormatError(`tokenizer file ${path} is not valid JSON: ${(error as Error).message}`);
    }
    return Tokenizer.fromJSON(json, `tokenizer file ${path}`);
  }
}

/** Max-heap entry order: larger count first, then smaller pair key (the deterministic tie-break). */
class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  private above(i: number, j: number): boolean {
    return this.counts[i]! > this.counts[j]! || (this.counts[i] === this.counts[j] && this.keys[i]! < this.keys[j]!);
  }

  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j]!, this.counts[i]!];
    [this.keys[i], this.keys[j]] = [this.keys[j]!, this.keys[i]!];
  }

  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    let i = this.counts.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): { count: number; key: number } {
    const top = { count: this.counts[0]!, key: this.keys[0]! };
    const lastCount = this.counts.pop()!;
    const lastKey = this.keys.pop()!;
    if (this.counts.length > 0) {
      this.counts[0] = lastCount;
      this.keys[0] = lastKey;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < this.counts.length && this.above(l, best)) best = l;
        if (r < this.counts.length && this.above(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}

export interface TrainTokenizerOptions {
  vocabSize?: number;
}

/**
 * Learns merges until the vocabulary has `vocabSize` tokens (or no pair occurs twice).
 * Incremental pair counts with a lazy max-heap: each merge touches only the words containing it.
 */
export function trainTokenizer(texts: Iterable<string>, options: TrainTokenizerOptions = {}): Tokenizer {
  const vocabSize = assertPositiveInteger('tokenizer.vocabSize', options.vocabSize ?? DEFAULT_VOCAB_SIZE);
  if (vocabSize < FIRST_MERGE_ID || vocabSize > MAX_VOCAB_SIZE) {
    throw new ConfigError(`tokenizer.vocabSize must be in [${FIRST_MERGE_ID}, ${MAX_VOCAB_SIZE}] (5 special + 256 byte tokens at least), got ${vocabSize}`);
  }
  const wordCounts = new Map<string, number>();
  for (const text of texts) for (const piece of pretokens(text)) wordCounts.set(piece, (wordCounts.get(piece) ?? 0) + 1);
  // sorted so that word indices — and with them every tie-break — do not depend on input order
  const entries = [...wordCounts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const words = entries.map(([word]) => Array.from(encoder.encode(word), (b) => b + BYTE_OFFSET));
  const counts = entries.map(([, count]) => count);

  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, Set<number>>();
  const addPairs = (w: number, sign: number, touched: Set<number> | null): void => {
    const symbols = words[w]!;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = pairKey(symbols[i]!, symbols[i + 1]!);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + sign * counts[w]!);
      touched?.add(key);
      if (sign > 0) {
        let set = pairWords.get(key);
        if (!set) pairWords.set(key, (set = new Set()));
        set.add(w);
      }
    }
  };
  for (let w = 0; w < words.length; w++) addPairs(w, 1, null);
  const heap = new PairHeap();
  for (const [key, count] of pairCounts) heap.push(count, key);

  const merges: [number, number][] = [];
  while (FIRST_MERGE_ID + merges.length < vocabSize && heap.size > 0) {
    const { count, key } = heap.pop();
    if (pairCounts.get(key) !== count) continue; // stale entry; the current count was pushed when it changed
    if (count < 2) break;
    const left = Math.floor(key / MAX_VOCAB_SIZE);
    const right = key % MAX_VOCAB_SIZE;
    const merged = FIRST_MERGE_ID + merges.length;
    merges.push([left, right]);
    const touched = new Set<number>();
    for (const w of pairWords.get(key) ?? []) {
      const symbols = words[w]!;
      let present = false;
      for (let i = 0; i + 1 < symbols.length; i++) if (symbols[i] === left && symbols[i + 1] === right) present = true;
      if (!present) continue;
      addPairs(w, -1, touched);
      mergePairInPlace(symbols, left, right, merged);
      addPairs(w, 1, touched);
    }
    pairWords.delete(key);
    for (const t of touched) {
      const c = pairCounts.get(t)!;
      if (c > 0) heap.push(c, t);
      else pairCounts.delete(t);
    }
  }
  return new Tokenizer(merges);
}

/** Replaces every non-overlapping occurrence of the pair (left, right), scanning left to right, by `merged`. */
function mergePairInPlace(symbols: number[], left: number, right: number, merged: number): void {
  let write = 0;
  for (let read = 0; read < symbols.length; read++) {
    if (read + 1 < symbols.length && symbols[read] === left && symbols[read + 1] === right) {
      symbols[write++] = merged;
      read++;
    } else {
      symbols[write++] = symbols[read]!;
    }
  }
  symbols.length = write;
}
