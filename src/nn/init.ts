/**
 * Seeded, deterministic initialisation (GPT-2 style): weights ~ N(0, σ²), biases 0, layer-norm
 * γ = 1, β = 0. One seedrandom stream per model, drawn in parameter registration order, so the same
 * (config, seed) gives bit-identical weights on every backend.
 */
import seedrandom from 'seedrandom';

export type Initializer = (count: number) => Float32Array;

export interface InitStreams {
  normal(std: number): Initializer;
  constant(value: number): Initializer;
}

/** Normals by the Box–Muller transform of seedrandom uniforms (ARC4 stream seeded with `zolo-init:${seed}`). */
export function initStreams(seed: number): InitStreams {
  const rng = seedrandom(`zolo-init:${seed}`);
  return {
    normal: (std) => (count) => {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i += 2) {
        const radius = Math.sqrt(-2 * Math.log(1 - rng())); // 1 − u ∈ (0, 1] keeps log finite
        const angle = 2 * Math.PI * rng();
        out[i] = std * radius * Math.cos(angle);
        if (i + 1 < count) out[i + 1] = std * radius * Math.sin(angle);
      }
      return out;
    },
    constant: (value) => (count) => new Float32Array(count).fill(value),
  };
}
