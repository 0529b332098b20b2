/**
 * Whole-model gradient check: for every trainable parameter θ_j, a random unit direction v_j, the
 * tape's Σ g·v against (L(θ + hv) − L(θ − hv))/2h with L the model's own inference loss (f32
 * kernels, host mean in f64).
 * Tolerance: the loss carries rounding ≲ K·u·|L| with K = 4·(d_ff + vocab) for the longest
 * accumulations (MLP and logits), so D̂ is off by ≤ K·u·|L|/h; truncation h²/6·|∂³L| with |∂³L| ≲ 10
 * for σ = 0.3 weights (loss curvature per unit step is O(1), a factor 10 margin); plus 1e-3·|D| for the
 * tape's own rounding.
 */
import { expect } from 'vitest';
import { type Model, valueAndGrad } from '../../src/nn/index.ts';
import type { TokenBatch } from '../../src/nn/batch.ts';
import { U32, mulberry, normals } from './gradcheck.ts';

export async function checkModelGradients<B extends TokenBatch>(label: string, model: Model<B>, batch: B, seed: number, h = 1e-2): Promise<number> {
  const { grads, loss } = await valueAndGrad(model.params, () => model.lossTensor(batch));
  const random = mulberry(seed);
  const K = 4 * (model.config.dFf + model.config.vocab);
  let checked = 0;
  for (const param of model.params.trainable()) {
    const base = param.tensor.readSync();
    const v = normals(random, base.length);
    const norm = Math.hypot(...v);
    const grad = grads.get(param);
    expect(grad, `${label}: no gradient for ${param.name}`).toBeDefined();
    const g = grad!.readSync();
    let analytic = 0;
    for (let i = 0; i < g.length; i++) analytic += (g[i]! * v[i]!) / norm;
    const at = async (sign: number) => {
      model.engine.backend.write(param.tensor.buffer, Float32Array.from(base, (x, i) => x + (sign * h * v[i]!) / norm));
      return model.loss(batch);
    };
    const numeric = ((await at(1)) - (await at(-1))) / (2 * h);
    model.engine.backend.write(param.tensor.buffer, base);
    const tolerance = (K * U32 * Math.abs(loss)) / h + (10 * h * h) / 6 + 1e-3 * Math.abs(analytic);
    expect(Math.abs(analytic - numeric), `${label}: ${param.name} tape ${analytic} vs central difference ${numeric}`).toBeLessThanOrEqual(tolerance);
    checked++;
  }
  for (const grad of grads.values()) grad.dispose();
  return checked;
}
