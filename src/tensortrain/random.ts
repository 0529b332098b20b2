/**
 * Random tensor trains with given ranks, for tests, benchmarks and initialisation. Host-side and
 * reproducible: the caller passes a uniform source in [0, 1) (e.g. `seedrandom(seed)`).
 */
import { ShapeError } from '../errors.ts';
import { assertModes } from './dense.ts';
import { type Core4, type TTMatrix, ttMatrix } from './ttMatrix.ts';
import { resolveRanks, type TTTensor, ttTensor } from './ttTensor.ts';

export type Uniform = () => number;

/** A standard-normal sampler (Box–Muller, caching the second value of each pair). */
export function normalSampler(uniform: Uniform): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const value = spare;
      spare = null;
      return value;
    }
    const u1 = 1 - uniform(); // (0, 1], so log is finite
    const u2 = uniform();
    const radius = Math.sqrt(-2 * Math.log(u1));
    spare = radius * Math.sin(2 * Math.PI * u2);
    return radius * Math.cos(2 * Math.PI * u2);
  };
}

/** A TT with N(0, std²) core entries; `std` may depend on the core (AdaZeta's init, spec §1.2). */
export function randomTT(shape: readonly number[], rank: number | readonly number[], uniform: Uniform, std: (k: number, ranks: readonly number[]) => number = () => 1): TTTensor {
  assertModes(shape, 'randomTT.shape');
  const ranks = resolveRanks(rank, shape.length, 'randomTT.rank');
  const normal = normalSampler(uniform);
  return ttTensor(
    shape.map((n, k) => {
      const sigma = std(k, ranks);
      return { shape: [ranks[k]!, n, ranks[k + 1]!] as const, data: Float64Array.from({ length: ranks[k]! * n * ranks[k + 1]! }, () => sigma * normal()) };
    }),
    'randomTT',
  );
}

/** A TT-matrix with N(0, 1) core entries. */
export function randomTTMatrix(rowModes: readonly number[], colModes: readonly number[], rank: number | readonly number[], uniform: Uniform): TTMatrix {
  assertModes(rowModes, 'randomTTMatrix.rowModes');
  assertModes(colModes, 'randomTTMatrix.colModes');
  if (rowModes.length !== colModes.length) throw new ShapeError(`randomTTMatrix: ${rowModes.length} row modes vs ${colModes.length} column modes`);
  const ranks = resolveRanks(rank, rowModes.length, 'randomTTMatrix.rank');
  const normal = normalSampler(uniform);
  const cores = rowModes.map((m, k): Core4 => {
    const n = colModes[k]!;
    return { shape: [ranks[k]!, m, n, ranks[k + 1]!], data: Float64Array.from({ length: ranks[k]! * m * n * ranks[k + 1]! }, () => normal()) };
  });
  return ttMatrix(cores, 'randomTTMatrix');
}
