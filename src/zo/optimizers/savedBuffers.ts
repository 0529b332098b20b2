/** Naming of optimizer buffers in checkpoints: `<prefix>/<param index>`. */
import { FormatError } from '../../errors.ts';
import type { Tensor } from '../../tensor/index.ts';

export function bufferTensors(prefix: string, buffers: ReadonlyMap<number, Tensor>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [index, buffer] of buffers) out[`${prefix}/${index}`] = buffer;
  return out;
}

/** Copies saved values into freshly allocated buffers; a missing or mis-sized tensor is a FormatError. */
export function loadBuffers(prefix: string, buffers: ReadonlyMap<number, Tensor>, saved: Record<string, Float32Array>): void {
  for (const [index, buffer] of buffers) {
    const values = saved[`${prefix}/${index}`];
    if (!values || values.length !== buffer.size) {
      throw new FormatError(`estimator state: "${prefix}/${index}" has ${values?.length ?? 'no'} values, the optimizer needs ${buffer.size}`);
    }
    buffer.engine.backend.write(buffer.buffer, values);
  }
}
