/** Shared generators for the TT tests: seeded dense tensors and shapes. */
import { fc } from '@fast-check/vitest';
import seedrandom from 'seedrandom';
import { type DenseTensor, normalSampler, product } from '../../src/tensortrain/index.ts';

export function gaussianTensor(shape: readonly number[], seed: number): DenseTensor {
  const normal = normalSampler(seedrandom(`tt-test:${seed}`));
  return { shape, data: Float64Array.from({ length: product(shape) }, () => normal()) };
}

export const uniformFrom = (seed: number): (() => number) => seedrandom(`tt-test:${seed}`);

/** d = 2..4 modes of size 1..6 (mode 1 included on purpose: degenerate unfoldings). */
export const smallShape = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 4 });

export const seedArb = fc.integer({ min: 0, max: 2 ** 31 - 1 });
