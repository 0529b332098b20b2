/** Tensor trains: TT tensors, TT-SVD, rounding, TT algebra, TT-matrices, AdaZeta's split layout. */
export * from './algebra.ts';
export * from './dense.ts';
export * from './linalg.ts';
export * from './options.ts';
export * from './random.ts';
export * from './round.ts';
export * from './splitLayout.ts';
export * from './ttMatrix.ts';
export * from './ttSvd.ts';
export * from './ttTensor.ts';
