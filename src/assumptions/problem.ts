/**
 * What a checker needs from a model: the loss and its true gradient at a flat parameter vector.
 * `modelProblem` (in src/experiment) adapts a zolo model + tape to this; the arbitraries build
 * problems with known constants for testing the checkers themselves.
 */
export interface DifferentiableProblem {
  /** number of parameters d. */
  readonly dim: number;
  loss(theta: Float64Array): Promise<number>;
  gradient(theta: Float64Array): Promise<Float64Array>;
}

/** Wraps synchronous loss/gradient functions. */
export function syncProblem(
  dim: number,
  loss: (theta: Float64Array) => number,
  gradient: (theta: Float64Array) => Float64Array,
): DifferentiableProblem {
  return { dim, loss: async (theta) => loss(theta), gradient: async (theta) => gradient(theta) };
}
