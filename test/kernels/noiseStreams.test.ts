/**
 * Noise streams keyed by (seed, tensor, purpose name): distinct streams are uncorrelated, a new
 * purpose gets a stream of its own, names are unique, and the key derivation is pinned.
 */
import { describe, expect, test } from 'vitest';
import {
  BuiltinNoisePurpose, fillNoiseNormals, fnv1a32, noiseKey, noisePurpose, registerNoisePurpose,
  registeredNoisePurposes, threefry2x32, type NoiseKey, type NoisePurpose,
} from '../../src/kernels/index.ts';
import { ConfigError } from '../../src/errors.ts';
import { correlation } from './helpers.ts';

const SEED = 20261206;
const BUILTINS: NoisePurpose[] = Object.values(BuiltinNoisePurpose);
const keyText = (key: NoiseKey): string => `${key.k0}:${key.k1}`;

function sample(key: NoiseKey, n: number): Float64Array {
  const out = new Float64Array(n);
  fillNoiseNormals(out, key);
  return out;
}

/**
 * Under independence the sample correlation of n pairs is ≈ N(0, 1/n), so |r| < 5/√n fails with
 * probability 5.7e-7 per pair; over the ≤ 300 pairs below the family-wise false-alarm rate is < 2e-4.
 */
function expectUncorrelated(samples: Float64Array[], n: number): void {
  for (let i = 0; i < samples.length; i++) {
    for (let j = i + 1; j < samples.length; j++) expect(Math.abs(correlation(samples[i]!, samples[j]!))).toBeLessThan(5 / Math.sqrt(n));
  }
}

describe('noise stream keys', () => {
  test('the built-in purposes are registered by name', () => {
    expect(registeredNoisePurposes()).toEqual(expect.arrayContaining(['zo.gaussian', 'zo.lowRank.u', 'zo.lowRank.v', 'galore.randomizedSvd']));
    expect(noisePurpose('zo.lowRank.u')).toBe(BuiltinNoisePurpose.lowRankU);
    expect(() => noisePurpose('zo.nope')).toThrow(/noise purpose "zo\.nope" is not registered; registered: zo\.gaussian/);
  });

  test('distinct (tensor, purpose) pairs and neighbouring seeds give uncorrelated streams', () => {
    const n = 1 << 13;
    const keys: NoiseKey[] = [];
    for (let tensor = 0; tensor < 4; tensor++) for (const purpose of BUILTINS) keys.push(noiseKey(SEED, tensor, purpose));
    keys.push(noiseKey(SEED + 1, 0, BuiltinNoisePurpose.gaussian), noiseKey(SEED + 1, 1, BuiltinNoisePurpose.gaussian));
    expect(new Set(keys.map(keyText)).size).toBe(keys.length);
    expectUncorrelated(keys.map((key) => sample(key, n)), n);
  });

  test('a newly registered purpose gets a fresh stream, equal to no built-in one of any tensor', () => {
    const extra = registerNoisePurpose('test.fifthPurpose');
    const n = 1 << 13;
    const builtinKeys = new Set<string>();
    for (let tensor = 0; tensor < 64; tensor++) for (const purpose of BUILTINS) builtinKeys.add(keyText(noiseKey(SEED, tensor, purpose)));
    for (let tensor = 0; tensor < 64; tensor++) expect(builtinKeys.has(keyText(noiseKey(SEED, tensor, extra)))).toBe(false);
    // the retired tensor·4 + slot scheme gave a fifth slot of tensor 0 the z of tensor 1: check that pair and its neighbours
    const samples = [noiseKey(SEED, 0, extra), noiseKey(SEED, 1, extra), ...BUILTINS.map((p) => noiseKey(SEED, 1, p)), ...BUILTINS.map((p) => noiseKey(SEED, 0, p))]
      .map((key) => sample(key, n));
    expectUncorrelated(samples, n);
  });

  test('a duplicate or malformed purpose name is refused', () => {
    registerNoisePurpose('test.once');
    expect(() => registerNoisePurpose('test.once')).toThrow(ConfigError);
    expect(() => registerNoisePurpose('test.once')).toThrow('noise purpose "test.once" is already registered; pick another name');
    expect(() => registerNoisePurpose('zo.gaussian')).toThrow(/already registered/);
    expect(() => registerNoisePurpose('')).toThrow(/must start with a letter/);
    expect(() => registerNoisePurpose('has space')).toThrow(/got "has space"/);
  });

  test('tensor ids outside [0, 2^32) are refused', () => {
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) {
      expect(() => noiseKey(SEED, bad, BuiltinNoisePurpose.gaussian)).toThrow(/tensor id must be an integer in \[0, 2\^32\)/);
    }
  });

  test('the derivation is the documented one: FNV-1a of the name, then Threefry under (seed, "nois")', () => {
    // FNV-1a 32-bit reference vectors (Fowler–Noll–Vo test suite)
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    const words = new Uint32Array(2);
    threefry2x32(5, fnv1a32('zo.lowRank.v'), SEED, 0x6e6f6973, words);
    expect(noiseKey(SEED, 5, BuiltinNoisePurpose.lowRankV)).toEqual({ k0: words[0], k1: words[1] });
  });
});
