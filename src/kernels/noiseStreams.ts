/**
 * Noise streams: which Threefry key a piece of regenerated noise is drawn under.
 *
 * Every stream is named by (seed, tensor id, purpose name). Its 64-bit Threefry key is
 *
 *   (k0, k1) = Threefry-2x32-20(counter = (tensorId, code(purpose)), key = (seed, NOISE_KEY_DOMAIN))
 *
 * where code(purpose) is the 32-bit FNV-1a hash of the purpose name's UTF-8 bytes. For a fixed seed
 * Threefry is a permutation of its 64-bit counter (a block cipher), so two different
 * (tensor, purpose code) pairs can never get the same key; the registry below refuses a purpose
 * whose name (or name hash) is already taken, so two different purposes never share a code. Keys of
 * different seeds are independent pseudo-random 64-bit values.
 *
 * Purposes are registered once, by name, at module load (the built-ins here; a plug-in part next to
 * its own code). A purpose's stream depends only on its name, never on registration order, so a run
 * replays the same whatever plug-ins were imported.
 */
import { ConfigError } from '../errors.ts';
import { fillNormals, threefry2x32 } from './rng.ts';

/**
 * The version of the mapping above; the ZO replay log records it. Version 1 was the retired
 * `stream = tensorId·4 + slot` key, whose slots ran out and collided.
 */
export const NOISE_FORMAT_VERSION = 2;

/** Second key word of the derivation: keeps stream keys apart from any other use of Threefry under key (seed, ·). */
const NOISE_KEY_DOMAIN = 0x6e6f6973; // "nois"

/** A registered purpose: its name and the 32-bit code the key derivation uses. */
export interface NoisePurpose {
  readonly name: string;
  readonly code: number;
}

/** The Threefry key of one stream; backends take it as their (key0, key1) arguments. */
export interface NoiseKey {
  readonly k0: number;
  readonly k1: number;
}

const PURPOSE_NAME = /^[A-Za-z][A-Za-z0-9_.:-]*$/;
const purposes = new Map<string, NoisePurpose>();
const purposesByCode = new Map<number, NoisePurpose>();

/** 32-bit FNV-1a over the UTF-8 bytes of `text` (Fowler–Noll–Vo, offset basis 2166136261, prime 16777619). */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * Registers a purpose under `name` (letters, digits and `_ . : -`, starting with a letter; prefix it
 * with your part's name, e.g. `myPart.mask`). A name registered twice, or one whose hash equals a
 * registered name's, is a ConfigError.
 */
export function registerNoisePurpose(name: string): NoisePurpose {
  if (typeof name !== 'string' || !PURPOSE_NAME.test(name)) {
    throw new ConfigError(`noise purpose name must start with a letter and hold only letters, digits and _ . : -, got ${JSON.stringify(name)}`);
  }
  if (purposes.has(name)) throw new ConfigError(`noise purpose "${name}" is already registered; pick another name`);
  const code = fnv1a32(name);
  const clash = purposesByCode.get(code);
  if (clash) throw new ConfigError(`noise purpose "${name}" hashes to the same code as "${clash.name}" (0x${code.toString(16)}); pick another name`);
  const purpose: NoisePurpose = Object.freeze({ name, code });
  purposes.set(name, purpose);
  purposesByCode.set(code, purpose);
  return purpose;
}

/** The registered purpose called `name`; a ConfigError listing the registered names otherwise. */
export function noisePurpose(name: string): NoisePurpose {
  const purpose = purposes.get(name);
  if (!purpose) throw new ConfigError(`noise purpose "${name}" is not registered; registered: ${registeredNoisePurposes().join(', ')}`);
  return purpose;
}

export function registeredNoisePurposes(): string[] {
  return [...purposes.keys()];
}

/** The Threefry key of stream (seed, tensorId, purpose); seed and tensorId are 32-bit unsigned integers. */
export function noiseKey(seed: number, tensorId: number, purpose: NoisePurpose): NoiseKey {
  if (!Number.isInteger(tensorId) || tensorId < 0 || tensorId > 0xffffffff) {
    throw new ConfigError(`noise stream tensor id must be an integer in [0, 2^32), got ${tensorId}`);
  }
  const words = new Uint32Array(2);
  threefry2x32(tensorId, purpose.code, seed >>> 0, NOISE_KEY_DOMAIN, words);
  return { k0: words[0]!, k1: words[1]! };
}

/** Host copy of the stream's normals: `out[j] = normal(key, offset + j)`, as every backend's fillNormal. */
export function fillNoiseNormals(out: Float32Array | Float64Array, key: NoiseKey, offset = 0): void {
  fillNormals(out, key.k0, key.k1, offset);
}

/** The built-in purposes; they live here, below zo and galore, because both draw noise. */
export const BuiltinNoisePurpose = {
  /** the Gaussian direction Z of a ZO perturbation (gaussian; sphere normalizes it, rademacher takes its signs). */
  gaussian: registerNoisePurpose('zo.gaussian'),
  /** LOZO's U factor, regenerated from the query seed. */
  lowRankU: registerNoisePurpose('zo.lowRank.u'),
  /** LOZO's lazily resampled V factor, drawn from the window seed. */
  lowRankV: registerNoisePurpose('zo.lowRank.v'),
  /** the Gaussian test matrix (and rank-deficiency fallback columns) of GaLore's randomized SVD. */
  galoreRandomizedSvd: registerNoisePurpose('galore.randomizedSvd'),
} as const;
