/** Float64 vector helpers for the checkers (host-side; parameter vectors are at most a few million long). */

export function dot(a: Float64Array, b: Float64Array): number {
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc += a[i]! * b[i]!;
  return acc;
}

export function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** a + alpha·b, new array. */
export function addScaled(a: Float64Array, alpha: number, b: Float64Array): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + alpha * b[i]!;
  return out;
}

export function scaled(a: Float64Array, alpha: number): Float64Array {
  return a.map((x) => alpha * x);
}

export function cosine(a: Float64Array, b: Float64Array): number {
  const denominator = norm(a) * norm(b);
  return denominator === 0 ? 0 : dot(a, b) / denominator;
}

export interface MeanInterval {
  mean: number;
  /** standard error of the mean (sample standard deviation / √n). */
  standardError: number;
  /** normal-approximation 95% interval: mean ± 1.96·SE. */
  low: number;
  high: number;
  samples: number;
}

export function meanInterval(values: readonly number[]): MeanInterval {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  const variance = n > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0;
  const standardError = Math.sqrt(variance / n);
  return { mean, standardError, low: mean - 1.96 * standardError, high: mean + 1.96 * standardError, samples: n };
}
