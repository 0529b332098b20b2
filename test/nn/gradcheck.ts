/**
 * Central-difference gradient checks for the tape.
 *
 * For a function y = f(θ) built from differentiable ops, the test loss is L = Σ_i w_i·y_i with fixed
 * random weights w (accumulated on the host in float64). Along a random unit direction v the tape
 * gives D = Σ_j g_j·v_j, central differences give D̂ = (L(θ + hv) − L(θ − hv)) / 2h. Error of D̂:
 *   truncation  h²/6·|∂³L/∂v³|   (unit v, O(1) inputs: ≲ 1e-4·|∂³L| at h = 1e-2)
 *   rounding    each y_i carries ≤ K·u·|y|_i (u = 2⁻²⁴, K = terms accumulated per output), so
 *               |δL| ≤ K·u·S with S = Σ|w_i||y_i|, and D̂ is off by ≤ K·u·S/h.
 * Tolerance: 4·K·u·S/h + h²·S/6 + 1e-3·|D|: a 4× margin on the rounding bound, the truncation bound
 * with |∂³L/∂v³| ≲ S (O(1) curvature per output), and 1e-3 relative for the tape's own f32 rounding.
 */
import { expect } from 'vitest';
import { CpuBackend } from '../../src/kernels/cpu.ts';
import { Tape } from '../../src/nn/tape.ts';
import * as F from '../../src/nn/functional.ts';
import { type Param, ParamStore } from '../../src/tensor/params.ts';
import { Engine, type Tensor } from '../../src/tensor/tensor.ts';

import { rng as mulberry, U32 } from '../kernels/helpers.ts';

export { mulberry, U32 };

export function normals(random: () => number, n: number, std = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = std * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  }
  return out;
}

export interface GradInput {
  shape: number[];
  values: Float32Array;
}

/** Host float64 Σ w_i y_i. */
function weightedSum(y: Float32Array, w: Float64Array): { value: number; magnitude: number } {
  let value = 0;
  let magnitude = 0;
  for (let i = 0; i < y.length; i++) {
    value += w[i]! * y[i]!;
    magnitude += Math.abs(w[i]! * y[i]!);
  }
  return { value, magnitude };
}

/**
 * Checks the tape's gradient of Σ w·f(inputs) against central differences, one direction per input.
 * `terms` is K above (the longest accumulation in f). Inputs become trainable parameters.
 */
export async function checkGradients(
  label: string, inputs: GradInput[], f: (tensors: Tensor[]) => Tensor, seed: number,
  options: { terms?: number; h?: number } = {},
): Promise<void> {
  const { terms = 8, h = 1e-2 } = options;
  const engine = new Engine(new CpuBackend());
  const store = new ParamStore(engine);
  const params: Param[] = inputs.map((input, i) => store.add(`x${i}`, 'attention', input.shape, input.values));
  const random = mulberry(seed);
  const tensors = () => params.map((p) => p.tensor);

  const probe = engine.scope(() => f(tensors()));
  const outSize = probe.size;
  (probe.base ?? probe).dispose();
  const w = Float64Array.from(normals(random, outSize));

  // tape: L = linear(reshape(y, [1, n]), w[1, n]) — a scalar built from differentiable ops
  const wTensor = engine.fromArray(Float32Array.from(w), [1, outSize], 'workspace');
  const tape = new Tape(store);
  const loss = tape.run(() => F.linear(F.reshape(f(tensors()), [1, outSize]), wTensor));
  const grads = await tape.backward(loss);
  (loss.base ?? loss).dispose();

  const evaluate = (): { value: number; magnitude: number } => {
    const y = engine.scope(() => f(tensors()));
    const out = weightedSum(y.readSync(), w);
    (y.base ?? y).dispose();
    return out;
  };

  params.forEach((param, index) => {
    const base = inputs[index]!.values;
    const v = normals(random, base.length);
    let norm = 0;
    for (const value of v) norm += value * value;
    norm = Math.sqrt(norm);
    for (let i = 0; i < v.length; i++) v[i]! /= norm;
    const grad = grads.get(param);
    let analytic = 0;
    if (grad) {
      const g = grad.readSync();
      for (let i = 0; i < g.length; i++) analytic += g[i]! * v[i]!;
    }
    const shifted = (sign: number) => {
      const values = Float32Array.from(base, (x, i) => x + sign * h * v[i]!);
      engine.backend.write(param.tensor.buffer, values);
      return evaluate();
    };
    const plus = shifted(1);
    const minus = shifted(-1);
    engine.backend.write(param.tensor.buffer, base);
    const numeric = (plus.value - minus.value) / (2 * h);
    const magnitude = Math.max(plus.magnitude, minus.magnitude);
    const tolerance = (4 * terms * U32 * magnitude) / h + (h * h * magnitude) / 6 + 1e-3 * Math.abs(analytic);
    expect(Math.abs(analytic - numeric), `${label}: input ${index} ${JSON.stringify(inputs[index]!.shape)} tape ${analytic} vs central difference ${numeric} (tolerance ${tolerance})`)
      .toBeLessThanOrEqual(tolerance);
  });
  for (const grad of grads.values()) grad.dispose();
  expect(engine.ledger.currentBytes('gradient')).toBe(0);
}
