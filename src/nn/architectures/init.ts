/**
 * Random initialisation of a decoder family from its parameter list, as transformers'
 * `_init_weights` does for LLaMA (LlamaPreTrainedModel): every Linear weight and embedding
 * N(0, initStd²), biases 0, norm weights (RMSNorm / LayerNorm γ) 1, LayerNorm β 0. Drawn from
 * zolo's seeded streams (src/nn/init.ts) in registration order, so (config, seed) fixes the weights.
 */
import { initStreams } from '../init.ts';
import type { DecoderConfig } from './config.ts';
import type { Architecture } from './decoderLm.ts';

export function randomDecoderValues(architecture: Architecture, config: DecoderConfig, seed: number): Map<string, Float32Array> {
  const init = initStreams(seed);
  const values = new Map<string, Float32Array>();
  for (const spec of architecture.parameters(config)) {
    const count = spec.shape.reduce((n, axis) => n * axis, 1);
    const isBias = spec.name.endsWith('.bias');
    const draw = isBias ? init.constant(0) : spec.group === 'norm' ? init.constant(1) : init.normal(config.initStd);
    values.set(spec.name, draw(count));
  }
  return values;
}
