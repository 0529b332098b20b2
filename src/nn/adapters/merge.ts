/**
 * Folding adapters into the weights they adapt. An additive output adapter y + f(x) with f linear
 * in x (LoRA: f(x) = (α/r)·x·Aᵀ·Bᵀ) equals the Linear with weight W + ΔW, where ΔWᵀ = f(I) — the
 * branch evaluated on the identity with a zero base output. Computing ΔW through the branch itself
 * holds for any layout of the adapter (the q/v slices of a fused projection included) and runs on
 * the backend's own kernels. Adapters that are not linear in x (AdaZeta's tensor-train adapters,
 * input adapters) cannot be folded in; `mergedWeights` names the first one it meets.
 */
import { ConfigError } from '../../errors.ts';
import type { Engine } from '../../tensor/tensor.ts';
import type { Linear, OutputAdapter } from '../linear.ts';
import type { AdaptableModel } from './attach.ts';

/** ΔWᵀ [in, out] = branch(I [in, in], 0 [in, out]) of an additive output adapter. */
export async function additiveDeltaTransposed(engine: Engine, branch: OutputAdapter, inFeatures: number, outFeatures: number): Promise<Float32Array> {
  const delta = engine.scope(() => {
    const identity = engine.zeros([inFeatures, inFeatures], 'workspace');
    for (let i = 0; i < inFeatures; i++) engine.backend.write(identity.buffer, Float32Array.of(1), i * inFeatures + i);
    const zero = engine.zeros([inFeatures, outFeatures], 'workspace');
    return branch(identity, zero);
  });
  const deltaT = await delta.read();
  (delta.base ?? delta).dispose();
  return deltaT;
}

/** w [out, in] += deltaT [in, out]ᵀ, in place. */
export function addTransposedInPlace(weight: Float32Array, deltaT: Float32Array, outFeatures: number, inFeatures: number): void {
  for (let o = 0; o < outFeatures; o++) for (let i = 0; i < inFeatures; i++) weight[o * inFeatures + i]! += deltaT[i * outFeatures + o]!;
}

/** Why `linear`'s adapters cannot be folded into its weight, or null when they can. */
function unmergeable(linear: Linear): string | null {
  if (linear.inputAdapters.length > 0) return `${linear.name} has an input adapter`;
  if (linear.outputAdapters.some((adapter) => !adapter.additive)) return `${linear.name} has an output adapter that is not linear in its input (a tensor-train adapter)`;
  return null;
}

/** True when every adapter of the model can be folded into its weight (LoRA only). */
export function canMergeAdapters(model: AdaptableModel): boolean {
  return [...model.linears().values()].every((linear) => unmergeable(linear) === null);
}

/**
 * The value of every parameter outside group 'adapter', with each Linear's additive adapters
 * folded into its weight: W + Σ ΔW. The model itself is not changed.
 */
export async function mergedWeights(model: AdaptableModel): Promise<Map<string, Float32Array>> {
  const values = await model.params.snapshot();
  for (const linear of model.linears().values()) {
    const reason = unmergeable(linear);
    if (reason) throw new ConfigError(`cannot merge the adapters into the weights: ${reason}`);
    const weight = values.get(linear.weight.name)!;
    for (const branch of linear.outputAdapters) {
      addTransposedInPlace(weight, await additiveDeltaTransposed(model.params.engine, branch, linear.inFeatures, linear.outFeatures), linear.outFeatures, linear.inFeatures);
    }
  }
  for (const param of model.params.all()) if (param.group === 'adapter') values.delete(param.name);
  return values;
}
