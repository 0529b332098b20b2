/**
 * Least-squares problems on the backend for optimizer tests: L(W) = ½‖(W − W*)X‖²_F, whose gradient
 * G = (W − W*)·C with C = XXᵀ is what ½‖WX − Y‖² gives for Y = W*X (galore.md §6.16). With C = I it
 * is ½‖W − W*‖² (§6.14–6.15).
 */
import type { Param } from '../../src/tensor/params.ts';
import type { Engine, Tensor } from '../../src/tensor/tensor.ts';
import { gaussian, matmulHost, transposeHost } from './helpers.ts';

export class LeastSquares {
  private readonly target: Tensor;
  private readonly covariance: Tensor;

  constructor(
    private readonly engine: Engine,
    readonly param: Param,
    targetValues: ArrayLike<number>,
    covarianceValues: ArrayLike<number>,
  ) {
    const [, n] = param.tensor.shape as [number, number];
    this.target = engine.fromArray(Float32Array.from(targetValues), param.tensor.shape, 'workspace');
    this.covariance = engine.fromArray(Float32Array.from(covarianceValues), [n, n], 'workspace');
  }

  /** C = XXᵀ for X n×samples Gaussian, scaled by 1/samples. */
  static gaussianCovariance(seed: number, n: number, samples: number): Float64Array {
    const X = gaussian(seed, n * samples);
    const C = matmulHost(X, transposeHost(X, n, samples), n, samples, n);
    for (let i = 0; i < C.length; i++) C[i]! /= samples;
    return C;
  }

  static identity(n: number): Float64Array {
    const C = new Float64Array(n * n);
    for (let i = 0; i < n; i++) C[i * n + i] = 1;
    return C;
  }

  /** G = (W − W*)·C as a fresh 'gradient' tensor the caller disposes. */
  gradient(): Tensor {
    const [m, n] = this.param.tensor.shape as [number, number];
    const difference = this.engine.zeros([m, n], 'workspace');
    this.engine.backend.binary('sub', this.param.tensor.buffer, this.target.buffer, difference.buffer, [1, 1, m * n], [0, 0, 1]);
    const grad = this.engine.zeros([m, n], 'gradient');
    this.engine.backend.matmul(difference.buffer, this.covariance.buffer, grad.buffer, { batch: 1, m, n, k: n });
    difference.dispose();
    return grad;
  }

  /** ½ tr(D C Dᵀ) with D = W − W*, in float64 on the host. */
  loss(): number {
    const [m, n] = this.param.tensor.shape as [number, number];
    const W = this.param.tensor.readSync();
    const S = this.target.readSync();
    const C = this.covariance.readSync();
    const D = Float64Array.from(W, (w, i) => w - S[i]!);
    const DC = matmulHost(D, C, m, n, n);
    let sum = 0;
    for (let i = 0; i < D.length; i++) sum += D[i]! * DC[i]!;
    return sum / 2;
  }
}
