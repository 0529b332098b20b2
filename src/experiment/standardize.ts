/**
 * Feature standardisation fitted on the training rows only: x ↦ (x − mean) / std per column
 * (population std). A constant column keeps scale 1, so it maps to 0 instead of dividing by zero.
 * Validation and test rows are transformed with the training statistics, never their own.
 */
import { ConfigError } from '../errors.ts';

export interface Standardizer {
  mean: Float64Array;
  scale: Float64Array;
}

export function fitStandardizer(features: ArrayLike<number>, rows: number, dim: number): Standardizer {
  if (rows < 1 || features.length !== rows * dim) throw new ConfigError(`standardize: features must hold rows × dim = ${rows} × ${dim} values (rows ≥ 1), got ${features.length}`);
  const mean = new Float64Array(dim);
  const scale = new Float64Array(dim);
  for (let i = 0; i < rows; i++) for (let j = 0; j < dim; j++) mean[j]! += features[i * dim + j]!;
  for (let j = 0; j < dim; j++) mean[j] = mean[j]! / rows;
  for (let i = 0; i < rows; i++) for (let j = 0; j < dim; j++) scale[j]! += (features[i * dim + j]! - mean[j]!) ** 2;
  for (let j = 0; j < dim; j++) {
    const std = Math.sqrt(scale[j]! / rows);
    scale[j] = std > 0 ? std : 1;
  }
  return { mean, scale };
}

export function standardize(standardizer: Standardizer, features: ArrayLike<number>): Float64Array {
  const dim = standardizer.mean.length;
  if (features.length % dim !== 0) throw new ConfigError(`standardize: ${features.length} values are not whole rows of ${dim}`);
  return Float64Array.from(features, (value, k) => (value - standardizer.mean[k % dim]!) / standardizer.scale[k % dim]!);
}
